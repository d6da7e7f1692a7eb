using System.Globalization;
using CaptionSidecar.Retries;
using Polly;

namespace CaptionSidecar.Captions;

/// <summary>
/// Fans caption updates out to every sink, one bounded queue and one consumer task per sink, so a slow or failing
/// sink never delays another.
/// </summary>
/// <remarks>
/// <para>Full policy of a sink's queue: beyond <see cref="QueueCapacity"/> entries the oldest update that finalizes
/// nothing is dropped (a newer one shows the same screen); when only updates with final lines are left, the queue
/// grows to <see cref="FinalQueueCapacity"/> and beyond that the oldest of them is dropped and its lines are counted
/// as lost (<see cref="CaptionSinkStats.FinalLinesLost"/>). Language closes are never dropped (one per toggle).</para>
/// <para>An update with final lines that a sink fails to handle is retried with the product's backoff
/// (<see cref="BackoffSettings.Disk"/>) until it succeeds, so a transcript resumes when the disk has room again and
/// the lines finalized meanwhile wait in the queue, in order. While stopping, each is tried once more and then
/// counted as lost. A failing sink shows in <see cref="SinkStats"/> and <see cref="Problems"/>.</para>
/// </remarks>
public sealed partial class CaptionDispatcher : BackgroundService, ICaptionPublisher
{
    /// <summary>Updates queued per sink before the oldest one that finalizes nothing is dropped.</summary>
    public const int QueueCapacity = 256;

    /// <summary>
    /// Updates with final lines queued per sink (a sink that cannot write for a long while: at a line every few
    /// seconds, more than an hour of speech) before the oldest of them is dropped and its lines are counted as lost.
    /// </summary>
    public const int FinalQueueCapacity = 2048;

    private static readonly TimeSpan DropLogInterval = TimeSpan.FromSeconds(10);

    private readonly SinkQueue[] _queues;
    private readonly ILogger<CaptionDispatcher> _logger;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private readonly HashSet<string> _openLanguages = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Language, CaptionDiscardReason Reason), long> _discards = [];
    private readonly CancellationTokenSource _abort = new();
    private readonly CancellationTokenSource _stopRetrying = new();
    private Task[] _consumers = [];
    private bool _stopping;
    private bool _disposed;

    public CaptionDispatcher(IEnumerable<ICaptionSink> sinks, ILogger<CaptionDispatcher> logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(sinks);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(time);
        _logger = logger;
        _time = time;
        _queues = [.. sinks.Select(s => new SinkQueue(s))];
        foreach (var queue in _queues)
        {
            queue.Retry = Backoff.Forever(BackoffSettings.Disk, time, attempt => OnRetry(queue, attempt));
        }
    }

    /// <summary>Counters per sink, in registration order.</summary>
    public IReadOnlyList<CaptionSinkStats> SinkStats => [.. _queues.Select(q => q.Stats())];

    /// <summary>Final lines that some sink did not record (dropped from its full queue, or its writes failed until the end).</summary>
    public long FinalLinesLost => _queues.Sum(q => q.Stats().FinalLinesLost);

    /// <summary>Text the caption tracks dropped or cut, per language and reason (see <see cref="ICaptionPublisher.Discarded"/>).</summary>
    public IReadOnlyDictionary<(string Language, CaptionDiscardReason Reason), long> Discards
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<(string Language, CaptionDiscardReason Reason), long>(_discards);
            }
        }
    }

    /// <summary>
    /// Sentences for a moderator about what goes wrong in the caption path now: an output that fails (and is being
    /// retried), final lines lost, text dropped from the engine. Empty when all is well.
    /// </summary>
    public IReadOnlyList<string> Problems
    {
        get
        {
            var problems = new List<string>();
            foreach (var stats in SinkStats)
            {
                if (stats.Problem is { } problem)
                {
                    problems.Add($"Output {stats.Sink}: {problem}");
                }

                if (stats.FinalLinesLost > 0)
                {
                    problems.Add(string.Create(CultureInfo.InvariantCulture, $"Output {stats.Sink}: {stats.FinalLinesLost} final lines lost"));
                }
            }

            foreach (var ((language, reason), count) in Discards.OrderBy(d => d.Key.Language, StringComparer.Ordinal).ThenBy(d => d.Key.Reason))
            {
                problems.Add(string.Create(CultureInfo.InvariantCulture, $"{language}: {count} {Describe(reason)}"));
            }

            return problems;
        }
    }

    /// <inheritdoc />
    public void Discarded(CaptionDiscard discard)
    {
        ArgumentNullException.ThrowIfNull(discard);
        long count;
        lock (_gate)
        {
            var key = (discard.Language, discard.Reason);
            count = _discards.GetValueOrDefault(key) + 1;
            _discards[key] = count;
        }

        // A cut is reported once per turn; a dropped item is logged the first time only (a flood sends thousands).
        if (discard.Reason is CaptionDiscardReason.DeltaTooLong or CaptionDiscardReason.TurnTooLong || count == 1)
        {
            LogDiscarded(discard.Language, Describe(discard.Reason), discard.ItemId, discard.Characters);
        }
    }

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
            ReportDrops(queue, DropLogInterval);
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
                _stopRetrying.Cancel();
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
            ReportDrops(queue, TimeSpan.Zero);
            if (queue.Stats().FinalLinesLost is > 0 and var lost)
            {
                LogLostAtEnd(lost, queue.Sink.Name);
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
        _stopRetrying.Dispose();
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
                    await DeliverAsync(queue, update, cancellationToken);
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
            // Aborted: whoever waits for a close must not wait forever, and the final lines left are lost.
            queue.Complete();
            while (queue.TryDequeue() is { } left)
            {
                left.Closed?.TrySetResult();
                queue.CountLost(left.Update?.Finalized.Count ?? 0);
            }
        }
    }

    /// <summary>Hands <paramref name="update"/> to the sink; retries one with final lines until it is written or the sidecar stops.</summary>
    private async Task DeliverAsync(SinkQueue queue, CaptionUpdate update, CancellationToken cancellationToken)
    {
        if (update.Finalized.Count == 0)
        {
            try
            {
                await WriteOnceAsync(queue, update, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Only the screen: the next update shows it anew.
                LogWriteFailed(ex, queue.Sink.Name, update.Language, update.Sequence);
            }

            return;
        }

        var failed = false;
        using var retrying = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopRetrying.Token);
        try
        {
            await queue.Retry.ExecuteAsync(
                async _ =>
                {
                    try
                    {
                        await WriteOnceAsync(queue, update, cancellationToken);
                    }
                    catch (Exception ex) when (!failed && ex is not OperationCanceledException)
                    {
                        failed = true;
                        LogFinalWriteFailed(ex, queue.Sink.Name, update.Finalized.Count, update.Language);
                        throw;
                    }
                },
                retrying.Token);
            if (failed)
            {
                LogRecovered(queue.Sink.Name);
            }

            return;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            queue.CountLost(update.Finalized.Count);
            throw;
        }
        catch (OperationCanceledException) when (_stopRetrying.IsCancellationRequested)
        {
            // Stopping: no more waiting for the output to come back; one last try below.
        }
        catch (Exception ex)
        {
            // Not retried (the sink threw a cancellation of its own).
            queue.CountLost(update.Finalized.Count);
            LogFinalLinesLost(ex, queue.Sink.Name, update.Finalized.Count, update.Language);
            return;
        }

        try
        {
            await WriteOnceAsync(queue, update, cancellationToken);
            LogRecovered(queue.Sink.Name);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            queue.CountLost(update.Finalized.Count);
            throw;
        }
        catch (Exception ex)
        {
            queue.CountLost(update.Finalized.Count);
            LogFinalLinesLost(ex, queue.Sink.Name, update.Finalized.Count, update.Language);
        }
    }

    private static async Task WriteOnceAsync(SinkQueue queue, CaptionUpdate update, CancellationToken cancellationToken)
    {
        try
        {
            await queue.Sink.WriteAsync(update, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            queue.CountFailed(ex);
            throw;
        }

        queue.CountDelivered();
    }

    private void ReportDrops(SinkQueue queue, TimeSpan interval)
    {
        if (queue.TakeDropsToReport(_time, interval) is not { } drops)
        {
            return;
        }

        if (drops.Recent > 0)
        {
            LogDropped(queue.Sink.Name, drops.Recent, drops.Total);
        }

        if (drops.RecentFinals > 0)
        {
            LogFinalsDropped(queue.Sink.Name, drops.RecentFinals, drops.TotalFinals);
        }
    }

    private void OnRetry(SinkQueue queue, RetryAttempt attempt)
    {
        var reason = attempt.Failure?.Message ?? "unknown failure";
        queue.SetProblem(string.Create(CultureInfo.InvariantCulture, $"{reason} (retrying, attempt {attempt.Attempt})"));
        var delayMs = (long)attempt.Delay.TotalMilliseconds;
        if (attempt.IsWorthAWarning)
        {
            LogRetrying(queue.Sink.Name, attempt.Attempt, delayMs, reason);
        }
        else
        {
            LogRetryingQuietly(queue.Sink.Name, attempt.Attempt, delayMs, reason);
        }
    }

    private static string Describe(CaptionDiscardReason reason) => reason switch
    {
        CaptionDiscardReason.UncommittedTooMany => "items of text never committed dropped (too many held)",
        CaptionDiscardReason.UncommittedTooOld => "items of text never committed dropped (no commit came)",
        CaptionDiscardReason.PendingTooMany => "committed turns given up (too many pending)",
        CaptionDiscardReason.DeltaTooLong => "over-long text deltas cut",
        CaptionDiscardReason.TurnTooLong => "over-long turns cut",
        _ => reason.ToString(),
    };

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
            queue.CountFailed(ex);
            LogCloseFailed(ex, queue.Sink.Name, language);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Caption output {Sink} failed on update {Sequence} of {Language}; it goes on with the next")]
    private partial void LogWriteFailed(Exception ex, string sink, string language, long sequence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Caption output {Sink} failed to record {Count} final lines of {Language}; it retries, and the lines that follow wait in order")]
    private partial void LogFinalWriteFailed(Exception ex, string sink, int count, string language);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Caption output {Sink} still fails (attempt {Attempt}); next try in {DelayMs} ms: {Reason}")]
    private partial void LogRetrying(string sink, int attempt, long delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Caption output {Sink} still fails (attempt {Attempt}); next try in {DelayMs} ms: {Reason}")]
    private partial void LogRetryingQuietly(string sink, int attempt, long delayMs, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Caption output {Sink} works again; the lines held meanwhile follow in order")]
    private partial void LogRecovered(string sink);

    [LoggerMessage(Level = LogLevel.Error, Message = "Caption output {Sink} lost {Count} final lines of {Language}: it still failed while the sidecar stopped")]
    private partial void LogFinalLinesLost(Exception ex, string sink, int count, string language);

    [LoggerMessage(Level = LogLevel.Error, Message = "Caption output {Sink} is stuck: dropped {Recent} final lines from its full queue ({Total} in all)")]
    private partial void LogFinalsDropped(string sink, long recent, long total);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Lost} final caption lines were not recorded by output {Sink}")]
    private partial void LogLostAtEnd(long lost, string sink);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Captions {Language}: {What} (item {ItemId}, {Characters} characters); the engine or server misbehaves, later ones are only counted in status unless cut")]
    private partial void LogDiscarded(string language, string what, string itemId, long characters);

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

    /// <summary>
    /// One sink's queue: display-only updates bounded by <see cref="QueueCapacity"/>, updates with final lines by
    /// <see cref="FinalQueueCapacity"/> (see the class remarks for the full policy).
    /// </summary>
    private sealed class SinkQueue(ICaptionSink sink)
    {
        private readonly Lock _gate = new();
        private readonly LinkedList<Entry> _entries = new();

        // Released once per enqueue (and on completion); the consumer rechecks the list, so extra releases
        // left by dropped entries only cost a spin of its loop.
        private readonly SemaphoreSlim _signal = new(0);
        private bool _completed;
        private int _displayOnly;
        private long _delivered;
        private long _dropped;
        private long _failed;
        private long _droppedReported;
        private long _droppedFinals;
        private long _droppedFinalsReported;
        private long _lost;
        private long _lastDropReport;
        private bool _dropsReported;
        private string? _problem;

        public ICaptionSink Sink { get; } = sink;

        /// <summary>How failed writes of final lines are retried (set once by the dispatcher).</summary>
        public ResiliencePipeline Retry { get; set; } = ResiliencePipeline.Empty;

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
                if (entry.Update is not null)
                {
                    MakeRoom();
                    if (entry.Update.Finalized.Count == 0)
                    {
                        _displayOnly++;
                    }
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
                if (TryDequeue() is { } entry)
                {
                    return entry;
                }

                lock (_gate)
                {
                    if (_completed && _entries.Count == 0)
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
                if (first.Value.Update is { Finalized.Count: 0 })
                {
                    _displayOnly--;
                }

                return first.Value;
            }
        }

        public void CountDelivered()
        {
            lock (_gate)
            {
                _delivered++;
                _problem = null;
            }
        }

        public void CountFailed(Exception failure)
        {
            lock (_gate)
            {
                _failed++;
                _problem = failure.Message;
            }
        }

        public void CountLost(int lines)
        {
            lock (_gate)
            {
                _lost += lines;
            }
        }

        public void SetProblem(string problem)
        {
            lock (_gate)
            {
                _problem = problem;
            }
        }

        /// <summary>Drops not yet reported: the first at once, later ones when <paramref name="interval"/> passed since the last report.</summary>
        public (long Recent, long Total, long RecentFinals, long TotalFinals)? TakeDropsToReport(TimeProvider time, TimeSpan interval)
        {
            lock (_gate)
            {
                var nothingNew = _dropped == _droppedReported && _droppedFinals == _droppedFinalsReported;
                if (nothingNew || (_dropsReported && time.GetElapsedTime(_lastDropReport) < interval))
                {
                    return null;
                }

                var report = (_dropped - _droppedReported, _dropped, _droppedFinals - _droppedFinalsReported, _droppedFinals);
                _droppedReported = _dropped;
                _droppedFinalsReported = _droppedFinals;
                _lastDropReport = time.GetTimestamp();
                _dropsReported = true;
                return report;
            }
        }

        public CaptionSinkStats Stats()
        {
            lock (_gate)
            {
                return new CaptionSinkStats(Sink.Name, _delivered, _dropped, _failed, _entries.Count, _lost, _problem);
            }
        }

        /// <summary>Under the lock, before an update is added: drops what the full policy says, if anything.</summary>
        private void MakeRoom()
        {
            if (_entries.Count >= QueueCapacity && _displayOnly > 0)
            {
                DropOldest(finals: false);
            }
            else if (_entries.Count >= FinalQueueCapacity)
            {
                DropOldest(finals: true);
            }
        }

        private void DropOldest(bool finals)
        {
            for (var node = _entries.First; node is not null; node = node.Next)
            {
                if (node.Value.Update is not { } update || (update.Finalized.Count > 0) != finals)
                {
                    continue;
                }

                _entries.Remove(node);
                if (finals)
                {
                    _droppedFinals += update.Finalized.Count;
                    _lost += update.Finalized.Count;
                }
                else
                {
                    _displayOnly--;
                    _dropped++;
                }

                return;
            }
        }
    }
}
