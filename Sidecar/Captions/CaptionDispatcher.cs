namespace CaptionSidecar.Captions;

/// <summary>
/// Fans caption updates out to every sink, one bounded queue and one consumer task per sink, so a slow or failing
/// sink never delays another. When a sink's queue is full the oldest update that finalizes nothing is dropped
/// (counted); updates with finalized turns are never dropped, transcripts need them.
/// </summary>
public sealed partial class CaptionDispatcher : BackgroundService, ICaptionPublisher
{
    /// <summary>Updates queued per sink before the oldest one that finalizes nothing is dropped.</summary>
    public const int QueueCapacity = 256;

    private static readonly TimeSpan DropLogInterval = TimeSpan.FromSeconds(10);

    private readonly SinkQueue[] _queues;
    private readonly ILogger<CaptionDispatcher> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _openLanguages = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _abort = new();
    private Task[] _consumers = [];
    private bool _stopping;
    private bool _disposed;

    public CaptionDispatcher(IEnumerable<ICaptionSink> sinks, ILogger<CaptionDispatcher> logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        _queues = [.. sinks.Select(s => new SinkQueue(s))];
        _logger = logger;
        _time = time;
    }

    /// <summary>Counters per sink, in registration order.</summary>
    public IReadOnlyList<CaptionSinkStats> SinkStats => [.. _queues.Select(q => q.Stats())];

    /// <summary>Queues <paramref name="update"/> for every sink. Never blocks and never throws.</summary>
    public void Publish(CaptionUpdate update)
    {
        if (update is null)
        {
            LogNullUpdate();
            return;
        }

        lock (_gate)
        {
            if (_stopping)
            {
                return;
            }

            _openLanguages.Add(update.Language);
            foreach (var queue in _queues)
            {
                queue.Enqueue(new Entry(update, null, null));
            }
        }

        foreach (var queue in _queues)
        {
            if (queue.TakeDropsToReport(_time, DropLogInterval) is { } drops)
            {
                LogDropped(queue.Sink.Name, drops.Recent, drops.Total);
            }
        }
    }

    /// <summary>
    /// Waits until every update of <paramref name="language"/> published before this call has been handled by
    /// every sink, then has each sink close the language (in its queue's order, so never concurrently with its
    /// updates). Errors of a sink are logged.
    /// </summary>
    public Task CloseLanguageAsync(string language, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(language);
        var closed = new List<Task>(_queues.Length);
        lock (_gate)
        {
            if (_stopping)
            {
                // Stopping closes every open language after the queues drain.
                return Task.CompletedTask;
            }

            _openLanguages.Remove(language);
            foreach (var queue in _queues)
            {
                var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                queue.Enqueue(new Entry(null, language, done));
                closed.Add(done.Task);
            }
        }

        return Task.WhenAll(closed).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Drains every queue (until <paramref name="cancellationToken"/>, the host's shutdown limit, fires), then closes
    /// every language still open in every sink so transcripts are flushed.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_stopping)
            {
                _stopping = true;
                foreach (var queue in _queues)
                {
                    foreach (var language in _openLanguages)
                    {
                        queue.Enqueue(new Entry(null, language, null));
                    }

                    queue.Complete();
                }

                _openLanguages.Clear();
            }
        }

        try
        {
            await Task.WhenAll(_consumers).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogDrainCut(_queues.Sum(q => q.Count));
            await _abort.CancelAsync();
        }

        foreach (var queue in _queues)
        {
            if (queue.TakeDropsToReport(_time, TimeSpan.Zero) is { } drops)
            {
                LogDropped(queue.Sink.Name, drops.Recent, drops.Total);
            }
        }

        await base.StopAsync(cancellationToken);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _abort.Cancel();
        _abort.Dispose();
        base.Dispose();
    }

    /// <summary>Starts one consumer per sink; they end when stopping has drained their queues.</summary>
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Started here, not in ExecuteAsync (which runs on the thread pool), so a stop right after start drains them.
        _consumers = [.. _queues.Select(q => Task.Run(() => ConsumeAsync(q), CancellationToken.None))];
        return base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(_consumers);

    private async Task ConsumeAsync(SinkQueue queue)
    {
        var cancellationToken = _abort.Token;
        try
        {
            while (await queue.DequeueAsync(cancellationToken) is { } entry)
            {
                if (entry.Update is { } update)
                {
                    await WriteAsync(queue, update, cancellationToken);
                }
                else
                {
                    await CloseAsync(queue, entry.CloseLanguage!, cancellationToken);
                    entry.Closed?.TrySetResult();
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Aborted: whoever waits for a close must not wait forever.
            queue.Complete();
            while (queue.TryDequeue() is { } left)
            {
                left.Closed?.TrySetResult();
            }
        }
    }

    private async Task WriteAsync(SinkQueue queue, CaptionUpdate update, CancellationToken cancellationToken)
    {
        try
        {
            await queue.Sink.WriteAsync(update, cancellationToken);
            queue.CountDelivered();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            queue.CountFailed();
            LogWriteFailed(ex, queue.Sink.Name, update.Language, update.Sequence);
        }
    }

    private async Task CloseAsync(SinkQueue queue, string language, CancellationToken cancellationToken)
    {
        try
        {
            await queue.Sink.CloseLanguageAsync(language, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            queue.CountFailed();
            LogCloseFailed(ex, queue.Sink.Name, language);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Caption output {Sink} failed on update {Sequence} of {Language}; it goes on with the next")]
    private partial void LogWriteFailed(Exception ex, string sink, string language, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Caption output {Sink} failed to close {Language}")]
    private partial void LogCloseFailed(Exception ex, string sink, string language);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Caption output {Sink} is too slow: dropped {Recent} display updates ({Total} in all); finalized lines are kept")]
    private partial void LogDropped(string sink, long recent, long total);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shutdown time ran out with {Left} caption updates not delivered to the outputs")]
    private partial void LogDrainCut(int left);

    [LoggerMessage(Level = LogLevel.Error, Message = "A null caption update was published and ignored")]
    private partial void LogNullUpdate();

    /// <summary>An update to write, or a language to close (with whoever waits for it).</summary>
    private sealed record Entry(CaptionUpdate? Update, string? CloseLanguage, TaskCompletionSource? Closed);

    /// <summary>One sink's queue: bounded for updates that finalize nothing, never drops the others.</summary>
    private sealed class SinkQueue(ICaptionSink sink)
    {
        private readonly Lock _gate = new();
        private readonly LinkedList<Entry> _entries = new();

        // Released once per enqueue (and on completion); the consumer rechecks the list, so extra releases
        // left by dropped entries only cost a spin of its loop.
        private readonly SemaphoreSlim _signal = new(0);
        private bool _completed;
        private long _delivered;
        private long _dropped;
        private long _failed;
        private long _droppedReported;
        private long _lastDropReport;
        private bool _dropsReported;

        public ICaptionSink Sink { get; } = sink;

        public int Count
        {
            get
            {
                lock (_gate)
                {
                    return _entries.Count;
                }
            }
        }

        public void Enqueue(Entry entry)
        {
            lock (_gate)
            {
                if (_completed)
                {
                    entry.Closed?.TrySetResult();
                    return;
                }

                // A close is never what makes room: it would cost an update that was queued before it.
                if (entry.Update is not null && _entries.Count >= QueueCapacity)
                {
                    DropOldestDisplayOnly();
                }

                _entries.AddLast(entry);
            }

            _signal.Release();
        }

        public void Complete()
        {
            lock (_gate)
            {
                _completed = true;
            }

            _signal.Release();
        }

        public async ValueTask<Entry?> DequeueAsync(CancellationToken cancellationToken)
        {
            while (true)
            {
                lock (_gate)
                {
                    if (_entries.First is { } first)
                    {
                        _entries.RemoveFirst();
                        return first.Value;
                    }

                    if (_completed)
                    {
                        return null;
                    }
                }

                await _signal.WaitAsync(cancellationToken);
            }
        }

        public Entry? TryDequeue()
        {
            lock (_gate)
            {
                if (_entries.First is not { } first)
                {
                    return null;
                }

                _entries.RemoveFirst();
                return first.Value;
            }
        }

        public void CountDelivered() => Interlocked.Increment(ref _delivered);

        public void CountFailed() => Interlocked.Increment(ref _failed);

        /// <summary>Drops not yet reported: the first at once, later ones when <paramref name="interval"/> passed since the last report.</summary>
        public (long Recent, long Total)? TakeDropsToReport(TimeProvider time, TimeSpan interval)
        {
            lock (_gate)
            {
                if (_dropped == _droppedReported || (_dropsReported && time.GetElapsedTime(_lastDropReport) < interval))
                {
                    return null;
                }

                var recent = _dropped - _droppedReported;
                _droppedReported = _dropped;
                _lastDropReport = time.GetTimestamp();
                _dropsReported = true;
                return (recent, _dropped);
            }
        }

        public CaptionSinkStats Stats()
        {
            lock (_gate)
            {
                return new CaptionSinkStats(Sink.Name, Interlocked.Read(ref _delivered), _dropped, Interlocked.Read(ref _failed), _entries.Count);
            }
        }

        private void DropOldestDisplayOnly()
        {
            for (var node = _entries.First; node is not null; node = node.Next)
            {
                if (node.Value.Update is { Finalized.Count: 0 })
                {
                    _entries.Remove(node);
                    _dropped++;
                    return;
                }
            }
        }
    }
}
