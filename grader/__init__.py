"""The grading engine: hidden tests run in a trusted process, student code in a worker."""
