from notary.cli import main

main()
