from provenant.cli import main

main()
