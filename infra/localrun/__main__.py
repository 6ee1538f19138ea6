from infra.localrun.server import main

main()
