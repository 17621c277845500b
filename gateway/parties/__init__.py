"""The registry of parties (Art. 37, 39, 72): who may call the gateway, in which role."""
