from cli_client.main import main

raise SystemExit(main())
