"""End-to-end tests: each starts the real `seatflow serve` process and talks HTTP to it."""
