"""The gateway's authorization server over HTTP: RFC 8414, 7523, 9068, 7662, 7009."""
