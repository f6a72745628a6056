/** The sample API's data: to-dos in memory, and a record of the slow exports so a test can watch them stop. */
export interface Todo {
  id: number
  title: string
  done: boolean
  priority: 'low' | 'normal' | 'high'
  tags: string[]
  due: string | null
  createdBy: string
}

export type NewTodo = Pick<Todo, 'title'> & Partial<Pick<Todo, 'priority' | 'tags' | 'due'>>

export interface ExportRun {
  by: string
  /** True once the route saw its request aborted (`request.signal`). */
  aborted: boolean
  finished: boolean
}

export class TodoStore {
  private readonly todos = new Map<number, Todo>()
  private nextId = 1
  /** Requests the API's own auth hook has seen: bad tool arguments never get this far. */
  requestsSeen = 0
  readonly exports: ExportRun[] = []

  list (filter: { done?: boolean, tag?: string, limit: number }): Todo[] {
    return [...this.todos.values()]
      .filter((todo) => filter.done === undefined || todo.done === filter.done)
      .filter((todo) => filter.tag === undefined || todo.tags.includes(filter.tag))
      .slice(0, filter.limit)
  }

  get (id: number): Todo | undefined {
    return this.todos.get(id)
  }

  create (input: NewTodo, createdBy: string): Todo {
    const todo: Todo = { id: this.nextId++, title: input.title, done: false, priority: input.priority ?? 'normal', tags: input.tags ?? [], due: input.due ?? null, createdBy }
    this.todos.set(todo.id, todo)
    return todo
  }

  replace (todo: Todo): Todo {
    this.todos.set(todo.id, todo)
    return todo
  }

  delete (id: number): boolean {
    return this.todos.delete(id)
  }
}
