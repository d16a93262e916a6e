//! `/todos`: a todo list whose items are live components. `#new-todo` adds one to the
//! stream `#todos`; each item (`todos-<id>`) handles its own `.toggle`, `.edit` (then a
//! form saving its title) and `.delete`, and tells the view, which keeps `#open-count`
//! (items not done) and shows `Deleted` in `#flash-info` after a delete.

use std::collections::BTreeMap;

use cinder::component::{ComponentSocket, LiveComponent, Myself, live_component};
use cinder::{Assigns, Flash, LiveView, Mount, Rendered, Result, Socket, Stream, Tracked, html};
use serde_json::Value;

/// One todo, as the view inserts it into the stream.
#[derive(Debug, Clone)]
pub struct Todo {
    id: u64,
    title: String,
}

/// The list.
#[derive(Assigns)]
pub struct Todos {
    todos: Stream<Todo>,
    /// Whether each item is done, by id.
    done: BTreeMap<u64, bool>,
    /// How many items are not done (`#open-count`).
    open: usize,
    next_id: u64,
    flash: Flash,
}

/// What an item tells its view.
#[derive(Debug)]
pub enum ItemChanged {
    /// Checked or unchecked.
    Toggled(u64, bool),
    /// Deleted: the view drops it from the stream.
    Deleted(u64),
}

fn dom_id(id: u64) -> String {
    format!("todos-{id}")
}

impl LiveView for Todos {
    type Info = ItemChanged;

    fn mount(cx: &mut Mount<'_, Self>) -> Result<Self> {
        cx.put_title("Todos");
        Ok(Todos {
            todos: Stream::new("todos"),
            done: BTreeMap::new(),
            open: 0,
            next_id: 1,
            flash: Flash::new(),
        })
    }

    fn render(assigns: &Tracked<Self>) -> Rendered<'_> {
        html!(
            r#"<main id="todo-app">
  <h1>Todos</h1>
  <form id="new-todo" phx-submit="add">
    <input type="text" name="title" autocomplete="off" value="" placeholder="What needs doing?" aria-label="New todo">
    <button type="submit">Add</button>
  </form>
  <p class="meta"><span id="open-count">{@open}</span> open</p>
  <ul id="todos" phx-update="stream">
    <li :for={(dom_id, todo) in @todos} id={dom_id}>{live_component::<Item>(dom_id.to_string(), todo.clone())}</li>
  </ul>
  <p :if={@flash.get("info").is_some()} id="flash-info" phx-click="lv:clear-flash" phx-value-key="info">{@flash.get("info").unwrap_or_default()}</p>
</main>"#
        )
    }

    fn handle_event(socket: &mut Socket<Self>, event: &str, value: Value) -> Result {
        match event {
            "add" => {
                let title = value
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                if !title.is_empty() {
                    let id = socket.next_id;
                    socket.set_next_id(id + 1);
                    socket.update_done(|done| done.insert(id, false));
                    count_open(socket);
                    socket.update_todos(|todos| todos.insert(dom_id(id), Todo { id, title }));
                }
                Ok(())
            }
            _ => Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
    }

    fn handle_info(socket: &mut Socket<Self>, change: ItemChanged) -> Result {
        match change {
            ItemChanged::Toggled(id, done) => {
                socket.update_done(|all| all.insert(id, done));
            }
            ItemChanged::Deleted(id) => {
                socket.update_done(|all| all.remove(&id));
                socket.update_todos(|todos| todos.delete(dom_id(id)));
            }
        }
        count_open(socket);
        Ok(())
    }

    fn flash(assigns: &mut Tracked<Self>) -> Option<&mut Flash> {
        Some(assigns.flash_mut())
    }
}

/// Recounts `open` from `done`, marking it only when it changed.
fn count_open(socket: &mut Socket<Todos>) {
    let open = socket.done.values().filter(|done| !**done).count();
    if open != socket.open {
        socket.set_open(open);
    }
}

/// One item: its title, whether it is done, and whether it is being edited.
#[derive(Assigns)]
pub struct Item {
    id: u64,
    title: String,
    done: bool,
    editing: bool,
}

impl LiveComponent for Item {
    type Props = Todo;

    fn mount(todo: &Todo) -> Result<Self> {
        Ok(Item {
            id: todo.id,
            title: todo.title.clone(),
            done: false,
            editing: false,
        })
    }

    fn render(assigns: &Tracked<Self>, myself: Myself) -> Rendered<'_> {
        html!(
            r#"<div class={if @done { "todo done" } else { "todo" }}>
  <input type="checkbox" id={format!("todos-{}-toggle", @id)} class="toggle" checked={@done} phx-click="toggle" phx-target={myself}>
  <span :if={!@editing} id={format!("todos-{}-title", @id)} class="title">{@title}</span>
  <form :if={@editing} id={format!("todos-{}-form", @id)} class="edit-form" phx-submit="save" phx-target={myself}>
    <input type="text" name="title" value={@title}>
    <button type="submit" class="save">Save</button>
  </form>
  <button id={format!("todos-{}-edit", @id)} class="edit secondary" phx-click="edit" phx-target={myself}>Edit</button>
  <button id={format!("todos-{}-delete", @id)} class="delete danger" phx-click="delete" phx-target={myself}>Delete</button>
</div>"#
        )
    }

    fn handle_event(socket: &mut ComponentSocket<Self>, event: &str, value: Value) -> Result {
        match event {
            "toggle" => {
                let done = !socket.done;
                socket.set_done(done);
                let id = socket.id;
                socket.send_parent(ItemChanged::Toggled(id, done));
            }
            "edit" => socket.set_editing(true),
            "save" => {
                let title = value
                    .get("title")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .trim()
                    .to_owned();
                if !title.is_empty() {
                    socket.set_title(title);
                }
                socket.set_editing(false);
            }
            "delete" => {
                socket.put_flash("info", "Deleted");
                let id = socket.id;
                socket.send_parent(ItemChanged::Deleted(id));
            }
            _ => return Err(cinder::Error::UnknownEvent(event.to_owned())),
        }
        Ok(())
    }
}
