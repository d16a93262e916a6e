use cinder::Assigns;

#[derive(Assigns)]
struct State(u32, String);

fn main() {}
