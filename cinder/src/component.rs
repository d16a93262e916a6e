//! Live components: stateful parts of a view, with their own state and events.
//!
//! A [`LiveComponent`] is a struct deriving [`Assigns`], like a view. A parent renders
//! one with [`live_component`] inside `html!`, giving an `id` (unique among the
//! components of that type) and props. The session keeps every instance's state across
//! renders, keyed by `(type, id)`: the first render mounts it, and each render of the
//! parent that reaches it runs [`LiveComponent::update`] with the new props, then
//! [`LiveComponent::render`]. The diff engine gives the instance a cid and sends its
//! render under `"c"` (see [`crate::diff`]).
//!
//! An event whose `phx-target` is the component (`phx-target={myself}`, the [`Myself`]
//! handed to `render`) arrives with its cid and goes to
//! [`LiveComponent::handle_event`]; the reply then holds that component's diff only
//! (plus the parent's, when the component changed the flash). When the client reports
//! the component's element gone (`cids_will_destroy`, then `cids_destroyed`), its
//! state is dropped.
//!
//! A component's render is evaluated whole each time and its text compared by hash, so
//! an instance whose render did not change sends nothing.
//!
//! Effects a component leaves in `update` (an event, a flash, a message to its view, a
//! navigation) are applied once the render that ran it is sent, with one more render
//! pushed as a `diff`, as Phoenix delivers them after `update_many`.

use std::any::{Any, type_name};
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};

use serde_json::Value;
use tracing::warn;

use crate::assigns::{Assigns, Tracked};
use crate::diff::PushedEvent;
use crate::error::{Error, Result};
use crate::flash::FlashOp;
use crate::html::AttrValue;
use crate::rendered::{Component, Dynamic, Rendered, Template};
use crate::socket::Navigation;
use crate::upload::{UploadEntry, Uploads};

/// A stateful component: state on the server, its own events, rendered inside a view.
///
/// ```
/// use cinder::component::{ComponentSocket, LiveComponent, Myself, live_component};
/// use cinder::{Assigns, Rendered, Result, Tracked, html};
///
/// #[derive(Assigns)]
/// pub struct Toggle {
///     label: String,
///     on: bool,
/// }
///
/// impl LiveComponent for Toggle {
///     type Props = String;
///
///     fn mount(label: &String) -> Result<Self> {
///         Ok(Toggle { label: label.clone(), on: false })
///     }
///
///     fn update(socket: &mut ComponentSocket<Self>, label: String) -> Result {
///         socket.set_label(label);
///         Ok(())
///     }
///
///     fn render(assigns: &Tracked<Self>, myself: Myself) -> Rendered<'_> {
///         html!(r#"<button phx-click="flip" phx-target={myself}>{@label}: {@on.to_string()}</button>"#)
///     }
///
///     fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, _value: serde_json::Value) -> Result {
///         match event {
///             "flip" => socket.update_on(|on| *on = !*on),
///             _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
///         }
///         Ok(())
///     }
/// }
///
/// // In a parent's template: `{live_component::<Toggle>("wifi", "Wi-Fi".to_owned())}`.
/// let wifi = live_component::<Toggle>("wifi", "Wi-Fi".to_owned());
/// # let _ = wifi;
/// ```
pub trait LiveComponent: Assigns + Sized + Send + 'static {
    /// What the parent passes on every render.
    type Props: 'static;

    /// Builds the state, on the first render of this `(type, id)`; `update` follows.
    fn mount(props: &Self::Props) -> Result<Self>;

    /// Takes the props of a parent's render (also right after `mount`). The default
    /// ignores them.
    fn update(socket: &mut ComponentSocket<Self>, props: Self::Props) -> Result {
        let _ = (socket, props);
        Ok(())
    }

    /// Renders the state; it must have a single root tag. `myself` is this instance's
    /// target: `phx-target={myself}` sends an element's events here.
    fn render(assigns: &Tracked<Self>, myself: Myself) -> Rendered<'_>;

    /// Handles an event sent to this component. The default refuses every event.
    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, value: Value) -> Result {
        let _ = (socket, value);
        Err(Error::UnknownEvent(event.to_owned()))
    }

    /// The component's [`Uploads`] field, as [`LiveView::uploads`](crate::LiveView::uploads)
    /// for a view: a form with `phx-target={myself}` uploads into it. The default
    /// allows none.
    fn uploads(assigns: &mut Tracked<Self>) -> Option<&mut Uploads> {
        let _ = assigns;
        None
    }

    /// Runs after the client reports progress on an entry of the component's upload
    /// `name`, as [`LiveView::handle_progress`](crate::LiveView::handle_progress).
    fn handle_progress(
        socket: &mut ComponentSocket<Self>,
        name: &str,
        entry: UploadEntry,
    ) -> Result {
        let _ = (socket, name, entry);
        Ok(())
    }
}

/// A component instance's own target, its cid: `phx-target={myself}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Myself(pub(crate) u32);

impl Myself {
    /// The cid (0 in a dead render, which has no cids).
    pub fn cid(self) -> u32 {
        self.0
    }
}

impl AttrValue for Myself {
    fn write_attr(&self, name: &str, out: &mut String) {
        self.0.write_attr(name, out);
    }
}

/// What a component's callbacks act through: its state and a few effects.
///
/// Setters generated by `#[derive(Assigns)]` are reached through it, as on a view's
/// [`Socket`](crate::Socket).
#[derive(Debug)]
pub struct ComponentSocket<C> {
    /// The component's state and its change bits.
    pub assigns: Tracked<C>,
    myself: Myself,
    connected: bool,
    effects: ComponentEffects,
}

/// Effects a component leaves for its session.
#[derive(Debug, Default)]
pub(crate) struct ComponentEffects {
    pub(crate) events: Vec<PushedEvent>,
    pub(crate) flash: Vec<FlashOp>,
    pub(crate) to_parent: Vec<Box<dyn Any + Send>>,
    pub(crate) navigation: Option<Navigation>,
}

impl ComponentEffects {
    fn is_empty(&self) -> bool {
        self.events.is_empty()
            && self.flash.is_empty()
            && self.to_parent.is_empty()
            && self.navigation.is_none()
    }

    fn append(&mut self, mut other: ComponentEffects) {
        self.events.append(&mut other.events);
        self.flash.append(&mut other.flash);
        self.to_parent.append(&mut other.to_parent);
        if other.navigation.is_some() {
            self.navigation = other.navigation;
        }
    }
}

impl<C> ComponentSocket<C> {
    fn new(state: C, myself: Myself, connected: bool) -> Self {
        ComponentSocket {
            assigns: Tracked::new(state),
            myself,
            connected,
            effects: ComponentEffects::default(),
        }
    }

    /// Whether the instance lives in a connected session (false in the dead render,
    /// where it is mounted for that render only): `update`, which follows every
    /// `mount`, can start connected-only work.
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// This instance's target (see [`Myself`]).
    pub fn myself(&self) -> Myself {
        self.myself
    }

    /// Pushes an event to the client, as [`Effects::push_event`](crate::Effects::push_event).
    pub fn push_event(&mut self, name: impl Into<String>, payload: Value) {
        self.effects.events.push(PushedEvent {
            name: name.into(),
            payload,
            before_patch: false,
        });
    }

    /// Shows a flash message in the parent view, as [`Socket::put_flash`](crate::Socket::put_flash).
    pub fn put_flash(&mut self, kind: impl Into<String>, message: impl Into<String>) {
        self.effects.flash.push(FlashOp::Put {
            kind: kind.into(),
            message: message.into(),
        });
    }

    /// Sends `info` to the parent view's `handle_info`, after this callback. It must be
    /// the view's `Info` type; anything else is dropped with a warning.
    pub fn send_parent<I: Send + 'static>(&mut self, info: I) {
        self.effects.to_parent.push(Box::new(info));
    }

    /// Patches the view's URL, as [`Socket::push_patch`](crate::Socket::push_patch).
    pub fn push_patch(&mut self, to: impl Into<String>) {
        self.effects.navigation = Some(Navigation::Patch {
            to: to.into(),
            replace: false,
        });
    }

    /// Mounts the view at `to`, as [`Socket::push_navigate`](crate::Socket::push_navigate).
    pub fn push_navigate(&mut self, to: impl Into<String>) {
        self.effects.navigation = Some(Navigation::Navigate {
            to: to.into(),
            replace: false,
        });
    }

    /// Loads `to` in full, as [`Socket::redirect`](crate::Socket::redirect).
    pub fn redirect(&mut self, to: impl Into<String>) {
        self.effects.navigation = Some(Navigation::Redirect { to: to.into() });
    }
}

impl<C> Deref for ComponentSocket<C> {
    type Target = Tracked<C>;
    fn deref(&self) -> &Tracked<C> {
        &self.assigns
    }
}

impl<C> DerefMut for ComponentSocket<C> {
    fn deref_mut(&mut self) -> &mut Tracked<C> {
        &mut self.assigns
    }
}

/// Renders the live component `C` identified by `id` with `props`, in a parent's
/// template: `{live_component::<Todo>(todo.id.to_string(), todo.clone())}`.
///
/// In a live session the instance's state lasts across renders; in a dead render (and
/// outside any session) it is mounted for this render only.
pub fn live_component<'a, C: LiveComponent>(id: impl Into<String>, props: C::Props) -> Dynamic<'a> {
    let id = id.into();
    let key_id = id.clone();
    Dynamic::Component(Box::new(Component::deferred(
        type_name::<C>(),
        id,
        move |cid, instances| render::<C>(instances, key_id, Myself(cid), props),
    )))
}

// === Registry ===

/// One instance, its type erased so the registry can hold any component.
pub(crate) trait Instance: Send {
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    fn handle_event(&mut self, event: &str, value: Value) -> Result;
    fn uploads(&mut self) -> Option<&mut Uploads>;
    fn handle_progress(&mut self, name: &str, entry: UploadEntry) -> Result;
    fn take_effects(&mut self) -> ComponentEffects;
    fn render(&mut self, myself: Myself) -> Rendered<'static>;
}

impl<C: LiveComponent> Instance for ComponentSocket<C> {
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }

    fn handle_event(&mut self, event: &str, value: Value) -> Result {
        C::handle_event(self, event, value)
    }

    fn uploads(&mut self) -> Option<&mut Uploads> {
        C::uploads(&mut self.assigns)
    }

    fn handle_progress(&mut self, name: &str, entry: UploadEntry) -> Result {
        C::handle_progress(self, name, entry)
    }

    fn take_effects(&mut self) -> ComponentEffects {
        std::mem::take(&mut self.effects)
    }

    fn render(&mut self, myself: Myself) -> Rendered<'static> {
        self.myself = myself;
        let rendered = C::render(&self.assigns, myself).into_owned();
        self.assigns.clear();
        rendered
    }
}

/// An instance's key: its type's name and its id.
pub(crate) type Key = (&'static str, String);

/// The component instances of one session, by `(type, id)`. Boxed on first use: a
/// session whose view renders no component pays one pointer.
#[derive(Default)]
pub(crate) struct Registry(Option<Box<Instances>>);

#[derive(Default)]
struct Instances {
    instances: HashMap<Key, Box<dyn Instance>>,
    /// A `mount` or `update` that failed during a render: the session ends, as for a
    /// panic, since the render could not be what the app meant.
    failed: Option<Error>,
    /// Effects the `update`s of the last render left.
    updated: Option<ComponentEffects>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = self.0.as_ref().map_or(0, |r| r.instances.len());
        f.debug_struct("Registry")
            .field("instances", &count)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Whether no component instance is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|r| r.instances.is_empty())
    }

    /// Runs `f` on the instance `(kind, id)` (its `handle_event`, an upload step), and
    /// returns what it returned with the effects it left; `None` without such an
    /// instance. A panic passes through: the session ends.
    pub(crate) fn run<R>(
        &mut self,
        kind: &'static str,
        id: &str,
        f: impl FnOnce(&mut dyn Instance) -> R,
    ) -> Option<(R, ComponentEffects)> {
        let instance = self
            .0
            .as_mut()
            .and_then(|r| r.instances.get_mut(&(kind, id.to_owned())))?;
        let result = f(instance.as_mut());
        Some((result, instance.take_effects()))
    }

    /// The uploads of the component holding the entry `entry_ref`, with its key.
    pub(crate) fn uploads_owning(&mut self, entry_ref: &str) -> Option<(Key, &mut Uploads)> {
        let registry = self.0.as_mut()?;
        registry.instances.iter_mut().find_map(|(key, instance)| {
            let uploads = instance.uploads()?;
            uploads.owns(entry_ref).then(|| (key.clone(), uploads))
        })
    }

    /// Runs `f` on every component's uploads, with the component's key.
    pub(crate) fn for_each_uploads(&mut self, mut f: impl FnMut(&Key, &mut Uploads)) {
        if let Some(registry) = self.0.as_mut() {
            for (key, instance) in &mut registry.instances {
                if let Some(uploads) = instance.uploads() {
                    f(key, uploads);
                }
            }
        }
    }

    /// The upload channels the components' entries left (see
    /// [`Uploads::take_finished`]).
    pub(crate) fn take_finished_uploads(&mut self) -> Vec<(String, String)> {
        let Some(registry) = self.0.as_mut() else {
            return Vec::new();
        };
        registry
            .instances
            .values_mut()
            .filter_map(|instance| instance.uploads().map(Uploads::take_finished))
            .flatten()
            .collect()
    }

    /// Drops the instance `(kind, id)` (the client destroyed it).
    pub(crate) fn remove(&mut self, kind: &'static str, id: &str) {
        if let Some(registry) = &mut self.0 {
            registry.instances.remove(&(kind, id.to_owned()));
        }
    }

    /// The effects the `update`s of the last render left, if any.
    pub(crate) fn take_update_effects(&mut self) -> Option<ComponentEffects> {
        self.0.as_mut()?.updated.take()
    }

    /// The error a render left, if a component's `mount` or `update` failed.
    pub(crate) fn take_failure(&mut self) -> Option<Error> {
        self.0.as_mut()?.failed.take()
    }
}

/// A render of instance `(kind, id)` as it is, without props: after it handled an
/// event.
pub(crate) fn rerender<'a>(kind: &'static str, id: String) -> Component<'a> {
    let key_id = id.clone();
    Component::deferred(kind, id, move |cid, mut instances| {
        let key = (kind, key_id);
        let Some(mut instance) = take(instances.as_deref_mut(), &key) else {
            return placeholder();
        };
        let rendered = instance.render(Myself(cid));
        put(instances, key, instance);
        rendered
    })
}

/// Takes an instance out of the session's instances, so its render may render
/// children.
fn take(instances: Option<&mut Registry>, key: &Key) -> Option<Box<dyn Instance>> {
    instances?.0.as_mut()?.instances.remove(key)
}

/// Puts an instance back after its render (nothing outside a session).
fn put(instances: Option<&mut Registry>, key: Key, instance: Box<dyn Instance>) {
    if let Some(registry) = instances {
        let registry = registry.0.get_or_insert_default();
        registry.instances.insert(key, instance);
    }
}

/// Records a failed `mount` or `update`, which ends the session after the render.
fn fail(instances: Option<&mut Registry>, error: Error) {
    warn!(%error, "a live component failed to mount or update");
    if let Some(registry) = instances {
        registry
            .0
            .get_or_insert_default()
            .failed
            .get_or_insert(error);
    }
}

/// What a component that failed renders (a single root tag, as components must).
fn placeholder() -> Rendered<'static> {
    static FAILED: Template = Template {
        statics: &["<div hidden></div>"],
        fingerprint: 0x6369_6e64_6572_2d63,
        root: true,
    };
    Rendered::eager(&FAILED, Vec::new())
}

/// Mounts (when new) or updates the instance `(C, id)`, then renders it: in the
/// session's `instances`, or for this render only in a dead render.
fn render<C: LiveComponent>(
    mut instances: Option<&mut Registry>,
    id: String,
    myself: Myself,
    props: C::Props,
) -> Rendered<'static> {
    let key = (type_name::<C>(), id);
    let existing = take(instances.as_deref_mut(), &key)
        .and_then(|instance| instance.into_any().downcast::<ComponentSocket<C>>().ok());
    let mut socket = match existing {
        Some(socket) => socket,
        None => match C::mount(&props) {
            Ok(state) => {
                let connected = instances.is_some();
                Box::new(ComponentSocket::new(state, myself, connected))
            }
            Err(error) => {
                fail(instances, error);
                return placeholder();
            }
        },
    };
    socket.myself = myself;
    if let Err(error) = C::update(&mut socket, props) {
        fail(instances, error);
        return placeholder();
    }
    let effects = std::mem::take(&mut socket.effects);
    if !effects.is_empty()
        && let Some(registry) = instances.as_deref_mut()
    {
        let registry = registry.0.get_or_insert_default();
        registry.updated.get_or_insert_default().append(effects);
    }
    let rendered = Instance::render(&mut *socket, myself);
    put(instances, key, socket);
    rendered
}
