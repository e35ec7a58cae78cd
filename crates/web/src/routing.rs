//! The app's routes, kept in a table as they are added to the router, so the list of what the
//! app serves comes from the router itself: the tests walk it (every route needs a session, the
//! route × role matrix) and the API's part of it is the OpenAPI document's paths.
//!
//! Pages are declared with [`page_routes!`](crate::page_routes); the JSON API with utoipa-axum's
//! `routes!`, whose paths and methods come from each handler's `#[utoipa::path]`.

use std::sync::Arc;

use axum::Router;
use axum::routing::MethodRouter;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// One route the app serves: a method (`get`, `post`) and a path as axum matches it
/// (`/states/{key}`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    pub method: String,
    pub path: String,
}

/// A router and the table of its routes, built together.
#[derive(Debug, Default)]
pub struct Routes {
    router: Router<Arc<AppState>>,
    table: Vec<Route>,
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `path` answered by `handlers`, which serve `methods`. Called by [`page_routes!`](crate::page_routes),
    /// which takes both from the same tokens, so the table cannot disagree with the router.
    pub fn add(
        mut self,
        path: &str,
        methods: &[&str],
        handlers: MethodRouter<Arc<AppState>>,
    ) -> Self {
        self.router = self.router.route(path, handlers);
        self.table.extend(methods.iter().map(|m| Route {
            method: (*m).to_owned(),
            path: path.to_owned(),
        }));
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.table.extend(other.table);
        self
    }

    /// Merges the API's router, whose table is its OpenAPI document's operations; returns the
    /// document too, derived from the same handlers.
    pub fn merge_api(mut self, api: OpenApiRouter<Arc<AppState>>) -> (Self, OpenApi) {
        let (router, doc) = api.split_for_parts();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("get", item.get.is_some()),
                ("post", item.post.is_some()),
                ("put", item.put.is_some()),
                ("patch", item.patch.is_some()),
                ("delete", item.delete.is_some()),
            ] {
                if op {
                    self.table.push(Route {
                        method: method.to_owned(),
                        path: path.clone(),
                    });
                }
            }
        }
        self.router = self.router.merge(router);
        (self, doc)
    }

    pub fn table(&self) -> &[Route] {
        &self.table
    }

    pub fn into_parts(self) -> (Router<Arc<AppState>>, Vec<Route>) {
        (self.router, self.table)
    }
}

/// Page routes: `page_routes! { "/letters" => get(list).post(create), "/letters/{id}" => get(show) }`.
/// Each method's name is both the axum method router called and the table's entry.
#[macro_export]
macro_rules! page_routes {
    ($($path:literal => $($method:ident($handler:expr)).+),* $(,)?) => {{
        let r = $crate::routing::Routes::new();
        $(
            let r = r.add(
                $path,
                &[$(stringify!($method)),+],
                axum::routing::MethodRouter::new()$(.$method($handler))+,
            );
        )*
        r
    }};
}
