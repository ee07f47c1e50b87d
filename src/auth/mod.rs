//! Authentication: access JWTs, refresh-token rotation, password hashing and the
//! bearer security scheme that handlers take as an argument.
pub mod jwt;
pub mod password;
pub mod profiles;
pub mod refresh;
pub mod scheme;
pub mod sessions;

pub use scheme::BearerAuth;
