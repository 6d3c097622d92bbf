from evaluator.bench.scoring import main

raise SystemExit(main())
