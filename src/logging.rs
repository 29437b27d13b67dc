//! Logging to a daily-rolling file in the XDG state dir; never to the terminal.
