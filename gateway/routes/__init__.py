"""HTTP routes: thin — parse, call one service function, shape the response."""
