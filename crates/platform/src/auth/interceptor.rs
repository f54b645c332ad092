//! The tonic interceptors that put the [`Caller`] of every call in its extensions, and
//! how handlers read it back.

use std::sync::Arc;

use tonic::{Request, Status};

use super::{Authenticator, Caller};

/// For services with public reads: a call without a token passes anonymously (no
/// [`Caller`]; handlers that need one refuse it), a call with a token must be valid.
pub fn optional_interceptor(
    auth: Arc<Authenticator>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut request: Request<()>| {
        if request.metadata().contains_key("authorization") || auth.insecure_dev {
            let caller = auth.authenticate(request.metadata())?;
            request.extensions_mut().insert(caller);
        }
        Ok(request)
    }
}

/// The caller of a call that may be anonymous.
pub fn maybe_caller<T>(request: &Request<T>) -> Option<Caller> {
    request.extensions().get::<Caller>().cloned()
}

/// A tonic interceptor that authenticates every call and stores the [`Caller`].
pub fn interceptor(
    auth: Arc<Authenticator>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut request: Request<()>| {
        let caller = auth.authenticate(request.metadata())?;
        request.extensions_mut().insert(caller);
        Ok(request)
    }
}

/// The caller the interceptor stored.
pub fn caller<T>(request: &Request<T>) -> Result<Caller, Status> {
    request
        .extensions()
        .get::<Caller>()
        .cloned()
        .ok_or_else(|| {
            Status::unauthenticated("missing bearer token: send `authorization: Bearer <JWT>`")
        })
}
