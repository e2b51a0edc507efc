from kanban_audit.cli import main

main()
