using CaptionSidecar.Tests.Support;
using CaptionSidecar.Captions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace CaptionSidecar.Tests.Captions;

public sealed class CaptionDispatcherTests
{
    private readonly ListLogger<CaptionDispatcher> _logger = new();
    private readonly FakeTimeProvider _time = new();

    private static CaptionUpdate Update(string language, long sequence, bool finalizes = false) => new(
        language,
        sequence,
        CaptionUpdateKind.Text,
        [new CaptionLine($"line {sequence}", "")],
        finalizes ? [new CaptionItem(language, (int)sequence, $"item{sequence}", $"line {sequence}", TimeSpan.Zero, TimeSpan.Zero)] : [],
        DateTimeOffset.UnixEpoch);

    private static async Task<CaptionDispatcher> StartedAsync(CaptionDispatcher dispatcher, CancellationToken cancellationToken)
    {
        await dispatcher.StartAsync(cancellationToken);
        return dispatcher;
    }

    [Fact(Timeout = 30000)]
    public async Task Publish_TwoSinks_EachGetsEveryUpdateInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var a = new RecordingSink("a");
        var b = new RecordingSink("b");
        using var dispatcher = await StartedAsync(new CaptionDispatcher([a, b], _logger, _time), ct);

        for (var i = 1; i <= 100; i++)
        {
            dispatcher.Publish(Update("en", i));
            dispatcher.Publish(Update("es", i));
        }

        await dispatcher.StopAsync(ct);

        foreach (var sink in new[] { a, b })
        {
            Assert.Equal(Enumerable.Range(1, 100).Select(n => (long)n), sink.Updates.Where(u => u.Language == "en").Select(u => u.Sequence));
            Assert.Equal(Enumerable.Range(1, 100).Select(n => (long)n), sink.Updates.Where(u => u.Language == "es").Select(u => u.Sequence));
        }

        Assert.All(dispatcher.SinkStats, s => Assert.Equal((200L, 0L, 0L, 0), (s.Delivered, s.Dropped, s.Failed, s.Queued)));
    }

    [Fact(Timeout = 30000)]
    public async Task Publish_SinkNeverCompletes_OtherSinkStillGetsEverything()
    {
        var ct = TestContext.Current.CancellationToken;
        var stuck = new RecordingSink("stuck") { BeforeWrite = (_, _) => new TaskCompletionSource().Task };
        var healthy = new RecordingSink("healthy");
        using var dispatcher = await StartedAsync(new CaptionDispatcher([stuck, healthy], _logger, _time), ct);

        for (var i = 1; i <= 50; i++)
        {
            dispatcher.Publish(Update("en", i, finalizes: i % 10 == 0));
        }

        await healthy.WaitForUpdatesAsync(50, ct);

        Assert.Equal(Enumerable.Range(1, 50).Select(n => (long)n), healthy.Updates.Select(u => u.Sequence));
        Assert.Empty(stuck.Updates);

        // Shutdown time runs out: stopping returns anyway and says how much was not delivered.
        using var shutdown = new CancellationTokenSource();
        var stopping = dispatcher.StopAsync(shutdown.Token);
        await shutdown.CancelAsync();
        await stopping;
        Assert.Contains(_logger.Entries, e => e.Message.Contains("Shutdown time ran out", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30000)]
    public async Task Publish_SinkThrows_LoggedWithExceptionAndNextUpdateProceeds()
    {
        var ct = TestContext.Current.CancellationToken;
        var failure = new InvalidOperationException("disk full");
        var throwing = new RecordingSink("throwing") { BeforeWrite = (u, _) => u.Sequence == 2 ? Task.FromException(failure) : Task.CompletedTask };
        var other = new RecordingSink("other");
        using var dispatcher = await StartedAsync(new CaptionDispatcher([throwing, other], _logger, _time), ct);

        for (var i = 1; i <= 3; i++)
        {
            dispatcher.Publish(Update("en", i));
        }

        await dispatcher.StopAsync(ct);

        Assert.Equal([1L, 3L], throwing.Updates.Select(u => u.Sequence));
        Assert.Equal([1L, 2L, 3L], other.Updates.Select(u => u.Sequence));
        var logged = Assert.Single(_logger.Entries, e => e.Exception is not null);
        Assert.Same(failure, logged.Exception);
        Assert.Equal(LogLevel.Warning, logged.Level);
        Assert.Contains("throwing", logged.Message, StringComparison.Ordinal);
        Assert.Equal((2L, 1L), (dispatcher.SinkStats[0].Delivered, dispatcher.SinkStats[0].Failed));
    }

    [Fact(Timeout = 30000)]
    public async Task Publish_QueueFull_DropsOldestDisplayOnlyUpdatesAndKeepsFinalizingOnes()
    {
        var ct = TestContext.Current.CancellationToken;
        var held = new HeldWrites("slow");
        var slow = held.Sink;
        using var dispatcher = await StartedAsync(new CaptionDispatcher([slow], _logger, _time), ct);

        dispatcher.Publish(Update("en", 1));
        await held.Entered.WaitAsync(ct);
        const int Published = 400;
        for (var i = 2; i <= Published; i++)
        {
            dispatcher.Publish(Update("en", i, finalizes: i % 5 == 0));
        }

        Assert.Equal(CaptionDispatcher.QueueCapacity, dispatcher.SinkStats[0].Queued);
        held.Release();
        await dispatcher.StopAsync(ct);

        var received = slow.Updates.Select(u => u.Sequence).ToList();
        var dropped = Published - 1 - CaptionDispatcher.QueueCapacity;
        Assert.Equal(received.Order(), received);
        Assert.Equal(Published - dropped, received.Count);
        Assert.All(Enumerable.Range(1, Published / 5).Select(n => n * 5L), s => Assert.Contains(s, received));

        // The oldest display-only updates went first: the newest ones all arrived.
        Assert.Equal(Enumerable.Range(Published - 100, 101).Select(n => (long)n), received.TakeLast(101));
        Assert.Equal(dropped, dispatcher.SinkStats[0].Dropped);
        Assert.Contains(_logger.Entries, e => e.Message.Contains($"({dropped} in all)", StringComparison.Ordinal));
    }

    [Fact(Timeout = 30000)]
    public async Task Publish_DropsContinue_LoggedAtMostEveryTenSeconds()
    {
        var ct = TestContext.Current.CancellationToken;
        var held = new HeldWrites("slow");
        var slow = held.Sink;
        using var dispatcher = await StartedAsync(new CaptionDispatcher([slow], _logger, _time), ct);
        var sequence = 1;
        dispatcher.Publish(Update("en", sequence));
        await held.Entered.WaitAsync(ct);

        // One in the sink, a full queue, then one more: the first drop is logged at once.
        for (var i = 0; i < CaptionDispatcher.QueueCapacity + 1; i++)
        {
            dispatcher.Publish(Update("en", ++sequence));
        }

        var dropsLogged = () => _logger.Entries.Where(e => e.Message.Contains("dropped", StringComparison.Ordinal)).Select(e => e.Message).ToList();
        Assert.Single(dropsLogged());
        for (var i = 0; i < 5; i++)
        {
            dispatcher.Publish(Update("en", ++sequence));
        }

        _time.Advance(TimeSpan.FromSeconds(9.9));
        dispatcher.Publish(Update("en", ++sequence));
        Assert.Single(dropsLogged());

        _time.Advance(TimeSpan.FromSeconds(0.1));
        dispatcher.Publish(Update("en", ++sequence));
        Assert.Equal(2, dropsLogged().Count);
        Assert.EndsWith("dropped 7 display updates (8 in all); finalized lines are kept", dropsLogged()[1], StringComparison.Ordinal);

        held.Release();
        await dispatcher.StopAsync(ct);
    }

    [Fact(Timeout = 30000)]
    public async Task Publish_QueueFullOfFinalizingUpdates_GrowsPastDisplayCapacityAndDropsNothing()
    {
        var ct = TestContext.Current.CancellationToken;
        var held = new HeldWrites("slow");
        var slow = held.Sink;
        using var dispatcher = await StartedAsync(new CaptionDispatcher([slow], _logger, _time), ct);

        for (var i = 1; i <= 300; i++)
        {
            dispatcher.Publish(Update("en", i, finalizes: true));
        }

        held.Release();
        await dispatcher.StopAsync(ct);

        Assert.Equal(Enumerable.Range(1, 300).Select(n => (long)n), slow.Updates.Select(u => u.Sequence));
        Assert.Equal(0, dispatcher.SinkStats[0].Dropped);
    }

    [Fact(Timeout = 30000)]
    public async Task Publish_SinkStuckBeyondFinalCapacity_DropsOldestFinalsCountsTheirLinesAndKeepsTheNewest()
    {
        var ct = TestContext.Current.CancellationToken;
        var held = new HeldWrites("slow");
        var slow = held.Sink;
        using var dispatcher = await StartedAsync(new CaptionDispatcher([slow], _logger, _time), ct);
        dispatcher.Publish(Update("en", 1, finalizes: true));
        await held.Entered.WaitAsync(ct);

        const int Extra = 10;
        var published = 1 + CaptionDispatcher.FinalQueueCapacity + Extra;
        for (var i = 2; i <= published; i++)
        {
            dispatcher.Publish(Update("en", i, finalizes: true));
        }

        Assert.Equal(CaptionDispatcher.FinalQueueCapacity, dispatcher.SinkStats[0].Queued);
        Assert.Equal(Extra, dispatcher.SinkStats[0].FinalLinesLost);
        Assert.Contains(_logger.Entries, e => e.Message.Contains($"dropped {Extra} final lines", StringComparison.Ordinal) || e.Message.Contains("dropped 1 final lines", StringComparison.Ordinal));

        held.Release();
        await dispatcher.StopAsync(ct);

        // The oldest queued finals went (2 .. 11); the one in the sink and the newest all arrived, in order.
        var received = slow.Updates.Select(u => u.Sequence).ToList();
        Assert.Equal([1L, .. Enumerable.Range(2 + Extra, CaptionDispatcher.FinalQueueCapacity).Select(n => (long)n)], received);
        Assert.Equal(Extra, dispatcher.FinalLinesLost);
        Assert.Contains($"Output slow: {Extra} final lines lost", dispatcher.Problems);
    }

    [Fact(Timeout = 30000)]
    public async Task Publish_FinalUpdateFails_RetriedAfterBackoffUntilItWorksAndLaterOnesFollowInOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new TimerSignallingTimeProvider();
        var failures = 3;
        var flaky = new RecordingSink("flaky")
        {
            BeforeWrite = (u, _) => u.Sequence == 2 && failures-- > 0 ? Task.FromException(new IOException("disk full")) : Task.CompletedTask,
        };
        using var dispatcher = await StartedAsync(new CaptionDispatcher([flaky], _logger, time), ct);

        dispatcher.Publish(Update("en", 1, finalizes: true));
        dispatcher.Publish(Update("en", 2, finalizes: true));
        dispatcher.Publish(Update("en", 3));
        dispatcher.Publish(Update("en", 4, finalizes: true));

        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var wait = await time.NextTimerAsync(ct);
            Assert.Contains(dispatcher.Problems, p => p.StartsWith("Output flaky: disk full", StringComparison.Ordinal));
            Assert.Equal([1L], flaky.Updates.Select(u => u.Sequence));
            time.Advance(wait);
        }

        await flaky.WaitForUpdatesAsync(4, ct);
        Assert.Equal([1L, 2L, 3L, 4L], flaky.Updates.Select(u => u.Sequence));
        Assert.Empty(dispatcher.Problems);
        Assert.Contains(_logger.Entries, e => e.Message.Contains("works again", StringComparison.Ordinal));
        await dispatcher.StopAsync(ct);
        Assert.Equal(0, dispatcher.FinalLinesLost);
    }

    [Fact]
    public void Discarded_FloodOfDroppedItems_LoggedOnceAndCountedInProblems()
    {
        using var dispatcher = new CaptionDispatcher([], _logger, _time);
        for (var i = 0; i < 1000; i++)
        {
            dispatcher.Discarded(new CaptionDiscard("en", CaptionDiscardReason.UncommittedTooMany, $"fl_{i}", 6));
        }

        dispatcher.Discarded(new CaptionDiscard("en", CaptionDiscardReason.TurnTooLong, "big1", 5_000_000));
        dispatcher.Discarded(new CaptionDiscard("en", CaptionDiscardReason.TurnTooLong, "big2", 5_000_000));

        Assert.Equal(3, _logger.Entries.Count);
        Assert.Equal(
            ["en: 1000 items of text never committed dropped (too many held)", "en: 2 over-long turns cut"],
            dispatcher.Problems);
    }

    [Fact(Timeout = 30000)]
    public async Task CloseLanguageAsync_UpdatesQueuedBefore_DeliveredFirstThenEachSinkClosesOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var held = new HeldWrites("slow");
        var slow = held.Sink;
        var fast = new RecordingSink("fast");
        using var dispatcher = await StartedAsync(new CaptionDispatcher([slow, fast], _logger, _time), ct);

        for (var i = 1; i <= 5; i++)
        {
            dispatcher.Publish(Update("en", i, finalizes: true));
            dispatcher.Publish(Update("es", i));
        }

        var closing = dispatcher.CloseLanguageAsync("en", ct);
        Assert.False(closing.IsCompleted);
        held.Release();
        await closing;

        foreach (var sink in new[] { slow, fast })
        {
            var events = sink.Events;
            Assert.Equal(["write en 1", "write en 2", "write en 3", "write en 4", "write en 5", "close en"], events.Where(e => e.Contains("en", StringComparison.Ordinal)));
            Assert.Equal(events.Count(e => e.StartsWith("write", StringComparison.Ordinal)), events.ToList().IndexOf("close en"));
        }

        await dispatcher.StopAsync(ct);

        // Stopping closes only what is still open.
        Assert.All(new[] { slow, fast }, s => Assert.Equal(["close en", "close es"], s.Events.Where(e => e.StartsWith("close", StringComparison.Ordinal))));
    }

    [Fact(Timeout = 30000)]
    public async Task CloseLanguageAsync_SinkCloseThrows_LoggedAndOthersStillClosed()
    {
        var ct = TestContext.Current.CancellationToken;
        var failure = new IOException("cannot flush");
        var throwing = new RecordingSink("throwing") { BeforeClose = _ => Task.FromException(failure) };
        var other = new RecordingSink("other");
        using var dispatcher = await StartedAsync(new CaptionDispatcher([throwing, other], _logger, _time), ct);
        dispatcher.Publish(Update("en", 1));

        await dispatcher.CloseLanguageAsync("en", ct);

        Assert.Equal(["write en 1", "close en"], other.Events);
        Assert.Same(failure, Assert.Single(_logger.Entries, e => e.Exception is not null).Exception);
        await dispatcher.StopAsync(ct);
    }

    [Fact(Timeout = 30000)]
    public async Task StopAsync_UpdatesQueued_DrainsEveryQueueThenClosesEveryLanguageSeen()
    {
        var ct = TestContext.Current.CancellationToken;
        var held = new HeldWrites("slow");
        var slow = held.Sink;
        var fast = new RecordingSink("fast");
        using var dispatcher = await StartedAsync(new CaptionDispatcher([slow, fast], _logger, _time), ct);
        for (var i = 1; i <= 20; i++)
        {
            dispatcher.Publish(Update("en", i, finalizes: i % 4 == 0));
            dispatcher.Publish(Update("es", i));
        }

        var stopping = dispatcher.StopAsync(ct);
        Assert.False(stopping.IsCompleted);
        dispatcher.Publish(Update("fr", 1));
        held.Release();
        await stopping;

        foreach (var sink in new[] { slow, fast })
        {
            Assert.Equal(40, sink.Updates.Count);
            Assert.Equal(["close en", "close es"], sink.Events.Skip(40).Order());
        }
    }

    /// <summary>
    /// A recording sink whose writes wait until the test releases them, with a signal once the first write has begun
    /// (so the test knows the dispatcher's queue for it is now filling).
    /// </summary>
    private sealed class HeldWrites
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public HeldWrites(string name) => Sink = new RecordingSink(name)
        {
            BeforeWrite = (_, _) =>
            {
                _entered.TrySetResult();
                return _release.Task;
            },
        };

        public RecordingSink Sink { get; }

        /// <summary>Completes once the first write has begun.</summary>
        public Task Entered => _entered.Task;

        /// <summary>Lets every held write, and every later one, go through.</summary>
        public void Release() => _release.SetResult();
    }
}
