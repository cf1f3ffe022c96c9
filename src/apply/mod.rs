//! The executor: carries out a plan's actions against the project and reports what happened.
//! It makes no decisions; it may only refuse (a saved plan whose precondition no longer holds).

pub mod schedule;
