//! The `tailmcp:host/identity` import: hands the request's [`Caller`] to the
//! component as the typed WIT record. Nothing else lives here. Beside
//! `identity/`, not in it: it needs the store (`state.rs`), which holds a
//! [`Caller`], and identity decoding needs neither.

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::identity::{self as wit, Host};
use crate::identity::Caller;
use crate::state::State;

impl Host for State {
    fn current_caller(&mut self) -> wit::Caller {
        to_wit(&self.caller)
    }
}

/// Adds the `identity` import to `linker`.
pub fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    wit::add_to_linker::<State, HasSelf<State>>(linker, |state| state)
}

fn to_wit(caller: &Caller) -> wit::Caller {
    wit::Caller {
        user: caller.user.as_ref().map(|user| wit::User {
            login: user.login.clone(),
            display_name: user.display_name.clone(),
            profile_pic_url: user.profile_pic_url.clone(),
        }),
        capabilities: caller
            .capabilities
            .iter()
            .map(|(name, grants)| wit::Capability {
                name: name.clone(),
                grants: grants.iter().map(|grant| grant.to_string()).collect(),
            })
            .collect(),
    }
}
