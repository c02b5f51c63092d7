from dicomweb_conformance.cli import main

raise SystemExit(main())
