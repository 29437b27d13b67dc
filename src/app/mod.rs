//! Pure application state and logic: `update(&mut AppState, Msg) -> Vec<Effect>`. No IO, no async,
//! no ratatui.
