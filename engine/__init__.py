"""seatflow's engine: commands in, events out, one writer, a durable journal."""
