using System.Net;
using System.Text;
using System.Threading.Channels;
using CaptionSidecar.Realtime;
using CaptionSidecar.Retries;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.YouTube;

/// <summary>The YouTube output's state, as <c>/api/status</c>, the control page and the tray show it.</summary>
/// <param name="On">True when a URL is set and the output is turned on (posting, or paused by a refusal).</param>
/// <param name="State">off, idle, posting, retrying or refused.</param>
/// <param name="Host">The ingestion URL's host (the rest is a secret), or null when none is set.</param>
/// <param name="Language">The caption language posted.</param>
/// <param name="OffsetSeconds">Seconds added to every line's time (the stream's delay).</param>
/// <param name="NextSeq">The <c>seq</c> the next new post gets.</param>
/// <param name="PostsSent">Posts YouTube took.</param>
/// <param name="LinesSent">Lines in them.</param>
/// <param name="LinesDropped">Lines never posted: too old (over <see cref="YouTubeOptions.MaxAgeSeconds"/>), refused, or over the waiting limit.</param>
/// <param name="Errors">Failed attempts (5xx, network, timeout), each retried with the same <c>seq</c>.</param>
/// <param name="LastAnswerAt">When the last answer came, or null.</param>
/// <param name="LastAnswer">The last answer (<c>200</c>, <c>400: reason</c>, <c>network: ...</c>), or null.</param>
/// <param name="Problem">Why nothing is posted (YouTube's refusal, in words), or null.</param>
/// <param name="Pending">Lines waiting for a post.</param>
internal sealed record YouTubeOutputStatus(
    bool On,
    string State,
    string? Host,
    string Language,
    double OffsetSeconds,
    long NextSeq,
    long PostsSent,
    long LinesSent,
    long LinesDropped,
    long Errors,
    DateTimeOffset? LastAnswerAt,
    string? LastAnswer,
    string? Problem,
    int Pending);

/// <summary>A moderator's change to the output (control page or API); a null member leaves that setting as it is.</summary>
/// <param name="Enabled">Turn it on or off.</param>
/// <param name="Url">A new ingestion URL; empty removes it (the output is then off).</param>
/// <param name="Language">The caption language to post.</param>
/// <param name="OffsetSeconds">Seconds added to every line's time.</param>
internal sealed record YouTubeSettingsChange(bool? Enabled = null, string? Url = null, string? Language = null, double? OffsetSeconds = null);

/// <summary>
/// Posts finished caption lines of one language to YouTube Live's caption ingestion URL. One loop owns the state
/// (<see cref="YouTubeOutbox"/>: batching, <c>seq</c>, the age limit, the pause after a refusal) and reads one bounded
/// queue of inputs: lines from <see cref="YouTubeCaptionSink"/>, moderators' changes, the slot timer, and the outcomes
/// of its posts. A post runs as its own task (one at a time, so posts are never out of order) under the product's
/// network backoff (<see cref="BackoffSettings.Network"/>, jittered) for 5xx, network errors and timeouts, with the same
/// <c>seq</c> and body; it is given up once its oldest line is older than the age limit. Nothing here waits on YouTube
/// in the caption path: the sink only queues.
/// </summary>
internal sealed partial class YouTubeOutput : IHostedService, IAsyncDisposable
{
    /// <summary>Inputs queued for the loop; a writer waits when full (the loop does nothing slow).</summary>
    public const int InputCapacity = 1024;

    /// <summary>How long one attempt may take before it counts as failed (and is retried).</summary>
    internal static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);

    private const int MaxAnswerChars = 300;

    private readonly IYouTubeSettingsStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<YouTubeOutput> _logger;
    private readonly HttpClient _http;
    private readonly Channel<Input> _inputs = Channel.CreateBounded<Input>(
        new BoundedChannelOptions(InputCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly CancellationTokenSource _abort = new();
    private readonly YouTubeOutbox _outbox;
    private readonly ITimer _slot;
    private YouTubeSettings _settings;
    private YouTubeOutputStatus _status;
    private readonly Lock _postGate = new();
    private CancellationTokenSource? _postCancel;
    private Task _post = Task.CompletedTask;
    private Task _loop = Task.CompletedTask;
    private DateTimeOffset? _failingSince;
    private bool _stopping;
    private int _disposed;

    public YouTubeOutput(
        IOptions<YouTubeOptions> options,
        IOptions<RealtimeOptions> realtime,
        IYouTubeSettingsStore store,
        TimeProvider time,
        ILogger<YouTubeOutput> logger,
        HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(realtime);
        _store = store;
        _time = time;
        _logger = logger;
        _http = new HttpClient(handler ?? new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }, disposeHandler: handler is null)
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _settings = YouTubeSettings.Resolve(options.Value, realtime.Value.Language, store);
        _outbox = new YouTubeOutbox(_settings.MaxAge);
        _outbox.Configure(_settings.Url, _settings.Enabled, _settings.MaxAge, time.GetUtcNow());
        _slot = time.CreateTimer(_ => _inputs.Writer.TryWrite(new Input.SlotDue()), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _status = Snapshot();
    }

    /// <summary>The state now; cheap (a snapshot the loop refreshes).</summary>
    public YouTubeOutputStatus Status => Volatile.Read(ref _status);

    /// <summary>The settings in force (the sink reads the language and the offset).</summary>
    public YouTubeSettings Settings => Volatile.Read(ref _settings);

    /// <summary>Queues finished lines for posting; waits only while the loop's queue is full.</summary>
    public ValueTask PostLinesAsync(IReadOnlyList<YouTubeLine> lines, CancellationToken cancellationToken) =>
        lines.Count == 0 ? ValueTask.CompletedTask : _inputs.Writer.WriteAsync(new Input.Lines(lines), cancellationToken);

    /// <summary>
    /// Applies a moderator's change, keeps it in the per-user data folder (the URL included: it is the streamer's own
    /// secret, on their computer) and returns the state after it.
    /// </summary>
    /// <exception cref="ArgumentException">A setting is invalid; the message says what to fix (never repeating the URL).</exception>
    public async Task<YouTubeOutputStatus> ChangeAsync(YouTubeSettingsChange change, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        var next = Settings.With(change); // throws ArgumentException with what to fix
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await _inputs.Writer.WriteAsync(new Input.Configure(next, applied), cancellationToken);
        await applied.Task.WaitAsync(cancellationToken);
        return Status;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = Settings;
        if (settings.Url is { } url)
        {
            LogStarting(settings.Enabled ? "on" : "off", settings.Language, url.Display, settings.OffsetSeconds);
        }

        _loop = RunAsync(_abort.Token);
        return Task.CompletedTask;
    }

    /// <summary>Posts what waits (the dispatcher has stopped before) until <paramref name="cancellationToken"/>, then stops.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _inputs.Writer.WriteAsync(new Input.Stop(), cancellationToken);
            await _loop.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogStopCut(_outbox.Pending + (_outbox.InFlight?.Lines.Count ?? 0));
        }
        finally
        {
            await _abort.CancelAsync();
        }

        await ObserveAsync(_loop);
        await ObserveAsync(_post);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _abort.CancelAsync();
        await ObserveAsync(_loop);
        await ObserveAsync(_post);
        await _slot.DisposeAsync();
        _abort.Dispose();
        _http.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        while (await _inputs.Reader.WaitToReadAsync(cancellationToken))
        {
            while (_inputs.Reader.TryRead(out var input))
            {
                var now = _time.GetUtcNow();
                var step = input switch
                {
                    Input.Lines lines => _outbox.Add(lines.Items, now),
                    Input.SlotDue => _outbox.SlotDue(now),
                    Input.Retrying retrying => Retrying(retrying, now),
                    Input.Finished finished => Finished(finished, now),
                    Input.Configure configure => Configure(configure, now),
                    Input.Stop => Stop(now),
                    _ => default,
                };
                Apply(step);
            }

            Volatile.Write(ref _status, Snapshot());
            if (_stopping && _outbox.InFlight is null && (_outbox.Pending == 0 || !_outbox.On || _outbox.State == YouTubeOutputState.Refused))
            {
                return;
            }
        }
    }

    /// <summary>Posts what waits (at its slot), then the loop ends once nothing is in flight or waiting.</summary>
    private YouTubeStep Stop(DateTimeOffset now)
    {
        _stopping = true;
        return _outbox.SlotDue(now);
    }

    private YouTubeStep Retrying(Input.Retrying retrying, DateTimeOffset now)
    {
        _outbox.Retrying(retrying.Seq, retrying.Problem, now);
        if (_failingSince is null)
        {
            _failingSince = now;
            LogFailing(retrying.Seq, retrying.Problem);
        }

        return default;
    }

    private YouTubeStep Finished(Input.Finished finished, DateTimeOffset now)
    {
        var post = _outbox.InFlight;
        var step = _outbox.Finished(finished.Seq, finished.Outcome, now);
        if (post?.Seq != finished.Seq)
        {
            return step;
        }

        switch (finished.Outcome)
        {
            case YouTubePostOutcome.Accepted when _failingSince is { } since:
                _failingSince = null;
                LogBack(post.Seq, (now - since).TotalSeconds);
                break;
            case YouTubePostOutcome.Refused refused:
                _failingSince = null;
                LogRefused(refused.Status, refused.Reason, post.Url.Display);
                break;
            case YouTubePostOutcome.Stale stale:
                LogStale(post.Lines.Count, post.Seq, Settings.MaxAge.TotalSeconds, stale.LastProblem ?? "no answer");
                break;
        }

        return step;
    }

    private YouTubeStep Configure(Input.Configure configure, DateTimeOffset now)
    {
        var before = Settings;
        var after = configure.Settings;
        Volatile.Write(ref _settings, after);
        var step = _outbox.Configure(after.Url, after.Enabled, after.MaxAge, now);
        _store.Save(after);
        LogChanged(after.Url is null ? "no URL" : after.Url.Display, after.Enabled && after.Url is not null ? "on" : "off", after.Language, after.OffsetSeconds,
            Equals(before.Url, after.Url) ? "same URL" : "new URL, seq from 1");
        configure.Applied.TrySetResult();
        return step;
    }

    private void Apply(YouTubeStep step)
    {
        if (step.CancelInFlight)
        {
            lock (_postGate)
            {
                _postCancel?.Cancel();
            }
        }

        if (step.WakeIn is { } wake)
        {
            _slot.Change(wake, Timeout.InfiniteTimeSpan);
        }

        if (step.Send is { } post)
        {
            var cancel = CancellationTokenSource.CreateLinkedTokenSource(_abort.Token);
            lock (_postGate)
            {
                _postCancel = cancel;
            }

            _post = SendAsync(post, _post, cancel);
        }
    }

    /// <summary>One post with its retries; reports its outcome (or nothing, when cancelled) back to the loop.</summary>
    private async Task SendAsync(YouTubePost post, Task previous, CancellationTokenSource cancel)
    {
        try
        {
            // A cancelled post's task may still be unwinding; let it end first, so two posts never overlap.
            await ObserveAsync(previous);
            await PostWithRetriesAsync(post, cancel.Token);
        }
        finally
        {
            lock (_postGate)
            {
                if (ReferenceEquals(_postCancel, cancel))
                {
                    _postCancel = null;
                }

                cancel.Dispose();
            }
        }
    }

    private async Task PostWithRetriesAsync(YouTubePost post, CancellationToken cancellationToken)
    {
        string? lastProblem = null;
        var retry = Backoff.Forever(
            BackoffSettings.Network,
            _time,
            attempt =>
            {
                lastProblem = Problem(attempt.Failure);
                _inputs.Writer.TryWrite(new Input.Retrying(post.Seq, lastProblem));
            },
            static ex => ex is HttpRequestException or TimeoutException or YouTubeRetryableException);
        YouTubePostOutcome outcome;
        try
        {
            outcome = await retry.ExecuteAsync(
                async token => _time.GetUtcNow() - post.OldestSpokenAt > Settings.MaxAge
                    ? new YouTubePostOutcome.Stale(lastProblem)
                    : await AttemptAsync(post, token),
                cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }

        await _inputs.Writer.WriteAsync(new Input.Finished(post.Seq, outcome), _abort.Token);
    }

    private async ValueTask<YouTubePostOutcome> AttemptAsync(YouTubePost post, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(AttemptTimeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var request = new HttpRequestMessage(HttpMethod.Post, post.Url.WithSeq(post.Seq))
        {
            Content = new StringContent(post.Body, new UTF8Encoding(false), "text/plain"),
        };
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var answer = await ReadAnswerAsync(response, linked.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new YouTubePostOutcome.Accepted(status, answer);
            }

            if (status is >= 400 and < 500 && response.StatusCode is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests))
            {
                return new YouTubePostOutcome.Refused(status, answer.Length > 0 ? answer : response.ReasonPhrase ?? "refused");
            }

            throw new YouTubeRetryableException($"{status}{(answer.Length > 0 ? ": " + answer : string.Empty)}");
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no answer within {AttemptTimeout.TotalSeconds:0} s");
        }
        catch (HttpRequestException ex)
        {
            // Never let the URL through in a message that may be logged or shown.
            throw new HttpRequestException(Redact(ex.Message, post.Url), null, ex.StatusCode);
        }
    }

    /// <summary>The first line of the answer's body, cut to a readable length (YouTube says why it refused here).</summary>
    private static async Task<string> ReadAnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new char[MaxAnswerChars];
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        var read = await reader.ReadBlockAsync(buffer.AsMemory(), cancellationToken);
        var text = new string(buffer, 0, read).ReplaceLineEndings("\n").Trim();
        var firstLine = text.Split('\n', 2)[0].Trim();
        return firstLine.Length < text.Length || read == MaxAnswerChars ? firstLine + " …" : firstLine;
    }

    private static string Problem(Exception? failure) => failure switch
    {
        YouTubeRetryableException answer => answer.Message,
        TimeoutException timeout => "timeout: " + timeout.Message,
        HttpRequestException network => "network: " + network.Message,
        null => "failed",
        _ => failure.GetType().Name + ": " + failure.Message,
    };

    private static string Redact(string message, YouTubeIngestionUrl url) =>
        message.Replace(url.Secret, url.Display, StringComparison.Ordinal);

    private YouTubeOutputStatus Snapshot()
    {
        var settings = Settings;
        return new YouTubeOutputStatus(
            _outbox.On,
            _outbox.State.ToString().ToLowerInvariant(),
            settings.Url?.Host,
            settings.Language,
            settings.OffsetSeconds,
            _outbox.NextSeq,
            _outbox.PostsSent,
            _outbox.LinesSent,
            _outbox.LinesDropped,
            _outbox.Errors,
            _outbox.LastAnswerAt,
            _outbox.LastAnswer,
            _outbox.RefusedReason is { } reason ? $"YouTube refused the captions: {reason}; check the ingestion URL" : null,
            _outbox.Pending);
    }

    private async Task ObserveAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            LogLoopFailed(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "YouTube captions {State}: {Language} to {Url}, times offset by {Offset} s")]
    private partial void LogStarting(string state, string language, string url, double offset);

    [LoggerMessage(Level = LogLevel.Information, Message = "YouTube captions changed: {Url}, {State}, {Language}, offset {Offset} s ({Change})")]
    private partial void LogChanged(string url, string state, string language, double offset, string change);

    [LoggerMessage(Level = LogLevel.Warning, Message = "YouTube caption post {Seq} failed ({Problem}); retrying with the same seq")]
    private partial void LogFailing(long seq, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "YouTube took caption post {Seq} after {Seconds:0.0} s of failures")]
    private partial void LogBack(long seq, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "YouTube refused the captions: {Status} {Reason}; check the ingestion URL ({Url}). The output is paused until it is set again or turned on again (control page)")]
    private partial void LogRefused(int status, string reason, string url);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped {Lines} YouTube caption lines of post {Seq}: older than {MaxAge} s before YouTube took them (last problem: {Problem})")]
    private partial void LogStale(int lines, long seq, double maxAge, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopped before {Lines} YouTube caption lines could be posted")]
    private partial void LogStopCut(int lines);

    [LoggerMessage(Level = LogLevel.Error, Message = "The YouTube output failed")]
    private partial void LogLoopFailed(Exception exception);

    private abstract record Input
    {
        public sealed record Lines(IReadOnlyList<YouTubeLine> Items) : Input;

        public sealed record SlotDue : Input;

        public sealed record Retrying(long Seq, string Problem) : Input;

        public sealed record Finished(long Seq, YouTubePostOutcome Outcome) : Input;

        public sealed record Configure(YouTubeSettings Settings, TaskCompletionSource Applied) : Input;

        public sealed record Stop : Input;
    }
}

/// <summary>An answer worth retrying (5xx, 408, 429): its status and YouTube's words.</summary>
internal sealed class YouTubeRetryableException(string message) : Exception(message);
