import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import CofferServer

@Suite struct EventLoopTaskExecutorTests {
    /// A job enqueued on an event loop's thread runs on that loop, whichever loop it is; child tasks inherit
    /// the preference. (A task started from the loop's thread: its first job is enqueued there, which is
    /// what resuming a continuation on the loop does too, without the race of a resume that comes before
    /// the task has suspended.)
    @Test func aJobEnqueuedOnALoopRunsOnThatLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let executor = EventLoopTaskExecutor(group: group)
        for _ in 0..<3 {
            for loop in group.makeIterator() {
                let task = try await loop.submit {
                    Task(executorPreference: executor) { () -> (Bool, [Bool]) in
                        let here = MultiThreadedEventLoopGroup.currentEventLoop === loop
                        let children = await withTaskGroup(of: Bool.self) { children in
                            for _ in 0..<4 { children.addTask { MultiThreadedEventLoopGroup.currentEventLoop != nil } }
                            return await children.reduce(into: []) { $0.append($1) }
                        }
                        return (here, children)
                    }
                }.get()
                let (here, children) = await task.value
                #expect(here)
                #expect(children == [true, true, true, true])
            }
        }
        try await group.shutdownGracefully()
    }

    /// Resumed from a thread that is no event loop's (a continuation resumed by a plain thread), the task
    /// runs on a loop of the group.
    @Test func aTaskResumedElsewhereRunsOnALoopOfTheGroup() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let executor = EventLoopTaskExecutor(group: group)
        let loops = Array(group.makeIterator())
        await withTaskExecutorPreference(executor) {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread { continuation.resume() }
            }
            let current = MultiThreadedEventLoopGroup.currentEventLoop
            #expect(loops.contains { $0 === current })
        }
        try await group.shutdownGracefully()
    }
}
