use std::sync::Arc;
use warden::{Exec, Pipeline};
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dir = std::path::PathBuf::from(&args[1]);
    let user: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&args[2]).unwrap()).unwrap();
    let context: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&args[3]).unwrap()).unwrap();
    let (user, context) = (Arc::new(user), Arc::new(context));
    let exec = Exec::at(0);
    let p = Pipeline::from_manifest(dir.join(&args[4])).unwrap();
    let n: usize = args[5].parse().unwrap();
    let start = std::time::Instant::now();
    for _ in 0..n { std::hint::black_box(p.execute_shared(user.clone(), context.clone(), &exec).unwrap()); }
    println!("{:.2} us/login", start.elapsed().as_secs_f64() * 1e6 / n as f64);
}
