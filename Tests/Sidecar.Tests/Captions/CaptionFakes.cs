using CaptionSidecar.Captions;

namespace CaptionSidecar.Tests.Captions;

/// <summary>Records every published update, in order.</summary>
internal sealed class RecordingPublisher : ICaptionPublisher
{
    private readonly Lock _gate = new();
    private readonly List<CaptionUpdate> _updates = [];
    private readonly List<CaptionDiscard> _discards = [];

    public IReadOnlyList<CaptionDiscard> Discards
    {
        get
        {
            lock (_gate)
            {
                return [.. _discards];
            }
        }
    }

    public IReadOnlyList<CaptionUpdate> Updates
    {
        get
        {
            lock (_gate)
            {
                return [.. _updates];
            }
        }
    }

    public IReadOnlyList<CaptionItem> Finalized => [.. Updates.SelectMany(u => u.Finalized)];

    public CaptionUpdate Last => Updates[^1];

    public void Publish(CaptionUpdate update)
    {
        lock (_gate)
        {
            _updates.Add(update);
        }
    }

    public void Discarded(CaptionDiscard discard)
    {
        lock (_gate)
        {
            _discards.Add(discard);
        }
    }
}

/// <summary>
/// A sink that records what it handles as events ("write en 3", "close en"); its behaviour per write and close can
/// be replaced (block, throw), and a test can wait until it has handled a number of updates.
/// </summary>
internal sealed class RecordingSink(string name) : ICaptionSink
{
    private readonly Lock _gate = new();
    private readonly List<CaptionUpdate> _updates = [];
    private readonly List<string> _events = [];
    private readonly List<(int Count, TaskCompletionSource Reached)> _waiters = [];

    public string Name { get; } = name;

    /// <summary>Runs before an update is recorded; may wait or throw.</summary>
    public Func<CaptionUpdate, CancellationToken, Task>? BeforeWrite { get; set; }

    /// <summary>Runs before a close is recorded; may throw.</summary>
    public Func<string, Task>? BeforeClose { get; set; }

    public IReadOnlyList<CaptionUpdate> Updates
    {
        get
        {
            lock (_gate)
            {
                return [.. _updates];
            }
        }
    }

    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_gate)
            {
                return [.. _events];
            }
        }
    }

    public async ValueTask WriteAsync(CaptionUpdate update, CancellationToken cancellationToken)
    {
        if (BeforeWrite is { } before)
        {
            await before(update, cancellationToken);
        }

        lock (_gate)
        {
            _updates.Add(update);
            _events.Add($"write {update.Language} {update.Sequence}");
            foreach (var waiter in _waiters.Where(w => _updates.Count >= w.Count))
            {
                waiter.Reached.TrySetResult();
            }
        }
    }

    public async ValueTask CloseLanguageAsync(string language, CancellationToken cancellationToken)
    {
        if (BeforeClose is { } before)
        {
            await before(language);
        }

        lock (_gate)
        {
            _events.Add($"close {language}");
        }
    }

    /// <summary>Completes when the sink has recorded at least <paramref name="count"/> updates.</summary>
    public Task WaitForUpdatesAsync(int count, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_updates.Count >= count)
            {
                return Task.CompletedTask;
            }

            var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, reached));
            return reached.Task.WaitAsync(cancellationToken);
        }
    }
}
