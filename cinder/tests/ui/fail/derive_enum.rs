use cinder::Assigns;

#[derive(Assigns)]
enum State {
    Idle,
    Busy { progress: u8 },
}

fn main() {}
