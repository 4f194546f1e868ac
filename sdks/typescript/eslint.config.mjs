// One linter for the two JavaScript codebases of the repository: this SDK's TypeScript, checked with its
// types (typescript-eslint), and the dashboard's plain ES modules, which run in the browser with no build
// step. Run from the repository's root (`npm run lint` here does), so that both lie under ESLint's base path;
// its packages are this SDK's development dependencies, installed with it.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["sdks/typescript/{dist,build,node_modules}/**"] },
  {
    files: ["sdks/typescript/{src,test}/**/*.ts"],
    languageOptions: {
      parserOptions: { project: ["./tsconfig.json", "./tsconfig.test.json"], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
    },
  },
  {
    // What ships: the strictest preset, but for one rule: the SDK checks at run time what a caller in plain
    // JavaScript passes (a turn without a role, say), which its types say cannot happen.
    files: ["sdks/typescript/src/**/*.ts"],
    extends: [js.configs.recommended, ...tseslint.configs.strictTypeChecked],
    rules: {
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-confusing-void-expression": [
        "error",
        { ignoreArrowShorthand: true, ignoreVoidReturningFunctions: true },
      ],
      "@typescript-eslint/no-unnecessary-condition": "off",
    },
  },
  {
    // The tests: type-checked, but node:test's test() and describe() are awaited by the runner itself, and a
    // test reads the server's JSON (and caught errors) as it comes, untyped, to assert on it field by field.
    files: ["sdks/typescript/test/**/*.ts"],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-floating-promises": [
        "error",
        { allowForKnownSafeCalls: [{ from: "package", package: "node:test", name: ["test", "describe", "it", "suite"] }] },
      ],
    },
  },
  {
    files: ["src/provenant/dashboard/static/**/*.js"],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: "module", globals: globals.browser },
  },
  {
    files: ["sdks/typescript/scripts/**/*.mjs", "sdks/typescript/eslint.config.mjs"],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
);
