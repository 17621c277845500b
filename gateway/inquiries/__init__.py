"""The disclosure channels of Art. 39 end to end, and the subject's access log (Art. 63)."""
