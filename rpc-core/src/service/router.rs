//! [`Router`]: a node of a mounted service tree, and how a path finds a function.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use super::{Member, Service};
use crate::error::CallError;
use crate::rpc::{join_path as join, LocalServices, ServiceRef};

/// A node of a mounted service tree, seen from its root. Cheap to clone.
///
/// ```
/// use rpc_core::{DynCall, Router, ServiceDict};
/// let root = Router::new(
///     ServiceDict::new()
///         .function("ping", |_: DynCall| Ok("pong"))
///         .with_sub_router("eggs", ServiceDict::new().function("spam", |_: DynCall| Ok(1))),
/// );
/// let eggs = root.sub_router("eggs").unwrap();
/// assert_eq!(eggs.name(), "eggs");
/// assert_eq!(eggs.path(), "eggs");
/// assert_eq!(eggs.parent().unwrap().path(), "");
/// assert_eq!(root.resolve("eggs/spam").unwrap().method(), "spam");
/// assert!(root.resolve("eggs/nope").is_err());
/// ```
#[derive(Clone)]
pub struct Router {
    root: Arc<dyn Service>,
    path: Arc<str>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("path", &self.path)
            .field("type", &self.service().type_name())
            .finish()
    }
}

impl Router {
    /// Mounts `service` as the root of a tree.
    pub fn new(service: impl Service) -> Self {
        Self::from_arc(Arc::new(service))
    }

    /// Mounts a shared service as the root of a tree.
    pub fn from_arc(service: Arc<dyn Service>) -> Self {
        Router {
            root: service,
            path: Arc::from(""),
        }
    }

    /// The node at `path` of the same tree (the path is not checked).
    pub(crate) fn at(&self, path: &str) -> Router {
        Router {
            root: self.root.clone(),
            path: Arc::from(path),
        }
    }

    /// The name of this router in its parent (empty for the root).
    pub fn name(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or("")
    }

    /// The path of this router from the root, without a trailing slash (`""` for the root).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The parent router, or `None` for the root.
    pub fn parent(&self) -> Option<Router> {
        if self.path.is_empty() {
            return None;
        }
        Some(self.at(self.path.rsplit_once('/').map_or("", |(p, _)| p)))
    }

    /// The root router of this tree.
    pub fn root(&self) -> Router {
        self.at("")
    }

    /// The child router of the given name.
    pub fn sub_router(&self, name: &str) -> Option<Router> {
        self.service().sub_router(name)?;
        Some(self.at(&join(&self.path, name)))
    }

    /// The service at this node.
    pub fn service(&self) -> &dyn Service {
        walk(&*self.root, &self.path)
            .expect("a router's path always names a node of its immutable tree")
    }

    /// A reference to this node that can be sent to the peer, who gets a proxy of it.
    pub fn service_ref(&self) -> ServiceRef {
        ServiceRef::at(self.path.to_string())
    }

    /// Resolves a path relative to this router to an exposed function, with aiomas's errors.
    ///
    /// # Errors
    /// A `LookupError` or `TypeError` worded as aiomas words it, when the path names no
    /// exposed function.
    pub fn resolve(&self, path: &str) -> Result<Resolved, CallError> {
        let (node, node_path, method) = resolve(self.service(), path)?;
        match Member::of(node, method) {
            Member::Exposed => Ok(Resolved {
                router: self.at(&join(&self.path, node_path)),
                method: method.to_owned(),
            }),
            other => Err(member_error(node, node_path, method, other)),
        }
    }
}

impl LocalServices for Router {
    fn has_service_at(&self, path: &str) -> bool {
        walk(self.service(), path).is_some()
    }
}

/// An exposed function found by [`Router::resolve`].
#[derive(Debug, Clone)]
pub struct Resolved {
    router: Router,
    method: String,
}

impl Resolved {
    /// The router of the service that has the function.
    pub fn router(&self) -> &Router {
        &self.router
    }

    /// The function's wire name.
    pub fn method(&self) -> &str {
        &self.method
    }
}

/// The node at `path` below `node` (`""` is `node` itself).
fn walk<'a>(mut node: &'a dyn Service, path: &str) -> Option<&'a dyn Service> {
    if path.is_empty() {
        return Some(node);
    }
    for seg in path.split('/') {
        node = node.sub_router(seg)?;
    }
    Some(node)
}

/// Walks `path` to the node that should have the function named by its last segment.
/// Returns the node, the path of that node (relative) and the function name.
pub(crate) fn resolve<'a, 'p>(
    root: &'a dyn Service,
    path: &'p str,
) -> Result<(&'a dyn Service, &'p str, &'p str), CallError> {
    // A byte search: `rsplit_once('/')` goes through the general pattern machinery and
    // `memrchr`, over a hundred instructions for a path like "add".
    let (node_path, method) = match path.bytes().rposition(|b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("", path),
    };
    let mut node = root;
    if !node_path.is_empty() {
        let mut consumed = 0;
        for seg in node_path.split('/') {
            match node.sub_router(seg) {
                Some(child) => node = child,
                None => {
                    let prefix = &path[..consumed.max(1) - 1];
                    return Err(match Member::of(node, seg) {
                        // aiomas walks into the function and fails on the next name.
                        Member::Exposed | Member::Hidden => {
                            let here = &path[..consumed + seg.len()];
                            let next = path[consumed + seg.len() + 1..]
                                .split('/')
                                .next()
                                .unwrap_or("");
                            not_found(next, here)
                        }
                        _ => not_found(seg, prefix),
                    });
                }
            }
            consumed += seg.len() + 1;
        }
    }
    Ok((node, node_path, method))
}

fn not_found(name: &str, prefix: &str) -> CallError {
    CallError::lookup_error(format!("Name \"{name}\" not found in \"{prefix}\""))
}

/// The error for a name that is not an exposed function of `node`.
pub(crate) fn member_error(
    node: &dyn Service,
    node_path: &str,
    method: &str,
    member: Member,
) -> CallError {
    match member {
        Member::SubRouter => CallError::type_error(format!(
            "'{}' object is not callable",
            node.sub_router(method)
                .map_or(Cow::Borrowed(method), |s| s.type_name())
        )),
        Member::Hidden => {
            CallError::lookup_error(format!("\"{}.{method}\" is not exposed", node.type_name()))
        }
        Member::Exposed | Member::Missing => not_found(method, node_path),
    }
}
