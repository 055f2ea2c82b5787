"""The arq worker process and the operator command line: orchestration only."""
