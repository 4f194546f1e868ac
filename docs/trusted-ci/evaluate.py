"""Runs an evaluation set and sends each case's conversation to Provenant as a session.

No API key is configured: in CI the SDK exchanges the job's OpenID Connect ID token for a key that lives
minutes (Trusted CI, see ../trusted-ci.md). Only PROVENANT_URL is set. Locally, set PROVENANT_API_KEY instead.
"""

import os

from provenant_sdk import ProvenantClient

# question → what a correct answer contains
CASES = [
    ("What is the capital of France?", "Paris"),
    ("How many days are in a leap year?", "366"),
    ("What is 12 times 12?", "144"),
]


def answer(question: str) -> str:
    """Stands in for the agent under evaluation."""
    known = {"France": "Paris is the capital of France.", "leap": "A leap year has 366 days.", "12": "144."}
    return next((reply for word, reply in known.items() if word in question), "I do not know.")


def main() -> None:
    run = os.environ.get("GITHUB_RUN_ID") or os.environ.get("CI_PIPELINE_ID") or "local"
    commit = os.environ.get("GITHUB_SHA") or os.environ.get("CI_COMMIT_SHA") or "unknown"
    with ProvenantClient() as client:  # PROVENANT_URL; the key comes from the CI's ID token
        agent = client.agents.get_or_create("support-bot", tags=["evals"])
        passed = 0
        for number, (question, expected) in enumerate(CASES, start=1):
            with client.session(
                agent["id"], external_id=f"eval-{run}-{number}", tags=["eval"], metadata={"commit": commit}
            ) as session:
                session.log_turn("USER", question)
                reply = answer(question)
                session.log_turn("ASSISTANT", reply, metadata={"passed": expected in reply})
            passed += expected in reply
    print(f"{passed}/{len(CASES)} cases passed; sessions of run {run} sent to Provenant")


if __name__ == "__main__":
    main()
