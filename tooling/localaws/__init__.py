"""The local AWS services: one moto server per service folder, on loopback, whose state outlives
its restarts (docs/engine.md, "Local AWS services")."""
