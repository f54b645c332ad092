//! Who made a change, as the events say it: the CloudEvents "authcontext" extension
//! (`ce-authtype`, `ce-authid`). A call's [`Caller`] is kept for the time its handler
//! runs ([`ActorScope`], around each service's generated server), and the outbox reads
//! it when it writes the call's events, as it reads the trace context: no handler passes
//! it along.
//!
//! A person acting through the site (a token with an `act` claim) is `user` with the
//! person's id (pseudonymous: an OpenID `sub` or a sign-in link's name, never an
//! e-mail); any other token is `service_account` with its `sub`; a change without a
//! call (an event consumer, `fabrique seed`) is `system`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::Caller;

tokio::task_local! {
    static ACTOR: Option<Actor>;
}

/// Who made the change an event tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `user`, `service_account` or `system` (the extension's `authtype`).
    pub auth_type: &'static str,
    /// The principal (`authid`), absent for `system`.
    pub auth_id: Option<String>,
}

impl Actor {
    /// The actor of a call made by `caller`.
    pub fn of(caller: &Caller) -> Self {
        match &caller.person {
            Some(person) => Actor {
                auth_type: "user",
                auth_id: Some(person.clone()),
            },
            None => Actor {
                auth_type: "service_account",
                auth_id: Some(caller.subject.clone()),
            },
        }
    }

    /// A change nobody called for.
    pub fn system() -> Self {
        Actor {
            auth_type: "system",
            auth_id: None,
        }
    }

    /// The actor of the call being handled, else [`Actor::system`].
    pub fn current() -> Self {
        ACTOR
            .try_with(|actor| actor.clone())
            .ok()
            .flatten()
            .unwrap_or_else(Actor::system)
    }
}

/// A gRPC service whose calls run with their caller's [`Actor`] in scope. It goes
/// inside the authenticating interceptor, which has stored the caller by then.
#[derive(Debug, Clone)]
pub struct ActorScope<S> {
    inner: S,
}

impl<S> ActorScope<S> {
    /// `inner`, its calls scoped.
    pub fn new(inner: S) -> Self {
        Self { inner }
    }
}

impl<S, B> tower::Service<http::Request<B>> for ActorScope<S>
where
    S: tower::Service<http::Request<B>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let actor = request.extensions().get::<Caller>().map(Actor::of);
        Box::pin(ACTOR.scope(actor, self.inner.call(request)))
    }
}

impl<S: tonic::server::NamedService> tonic::server::NamedService for ActorScope<S> {
    const NAME: &'static str = S::NAME;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_actor_is_the_person_else_the_token_else_the_system() {
        assert_eq!(Actor::current(), Actor::system());
        let mut caller = Caller::dev();
        let token = Actor::of(&caller);
        assert_eq!(token.auth_type, "service_account");
        assert_eq!(token.auth_id.as_deref(), Some(caller.subject.as_str()));
        caller.person = Some("oidc:1234".into());
        let person = Actor::of(&caller);
        let seen = ACTOR
            .scope(Some(person.clone()), async { Actor::current() })
            .await;
        assert_eq!(seen, person);
        assert_eq!(seen.auth_id.as_deref(), Some("oidc:1234"));
        assert_eq!(
            ACTOR.scope(None, async { Actor::current() }).await,
            Actor::system()
        );
    }
}
