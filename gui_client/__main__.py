from gui_client.main import main

raise SystemExit(main())
