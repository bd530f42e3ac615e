//! One fixture that triggers each rule and one that does not.

use crate::support::*;
