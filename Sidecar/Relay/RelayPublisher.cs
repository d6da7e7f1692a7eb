using System.Threading.Channels;
using CaptionSidecar.Relay;
using CaptionSidecar.Retries;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace CaptionSidecar.RelayOutput;

/// <summary>The relay output's state, as <c>/api/status</c> shows it.</summary>
/// <param name="Url">The NATS server, its password as <c>***</c>.</param>
/// <param name="Stream">The stream's name on NATS.</param>
/// <param name="Connected">True while connected to NATS.</param>
/// <param name="Published">Updates published since start.</param>
/// <param name="Dropped">Updates not published: over the size limit, or their publish failed (not for a lost connection).</param>
/// <param name="Superseded">Updates replaced by a newer one of their language before they could be published (while NATS was away, mostly).</param>
/// <param name="LastError">The last problem (NATS unreachable, an update dropped), or null when there was none.</param>
internal sealed record RelayOutputStatus(string Url, string Stream, bool Connected, long Published, long Dropped, long Superseded, string? LastError);

/// <summary>
/// Publishes caption messages to NATS (core publish to <c>$KV.captions.STREAM.LANG</c>, no JetStream API, no reply):
/// one loop owns the state (<see cref="RelayOutbox"/>) and reads one bounded queue of inputs: messages from
/// <see cref="Outputs.RelayCaptionSink"/>, the connection's ups and downs, and the results of its publishes.
/// </summary>
/// <remarks>
/// <para>The loop never awaits NATS: each publish runs as its own task (at most one per language) and reports back
/// through the queue, so the sink's <see cref="PostAsync"/> only ever waits for the loop to take the message (the
/// queue's full policy is to wait: the loop does nothing slow, and the dispatcher's queue in front of the sink has its
/// own drop policy).</para>
/// <para>The client (NATS.Net) reconnects by itself, without limit, waiting as the product's backoff for a peer
/// nearby does (<see cref="BackoffSettings.LocalPeer"/>: 250 ms doubling to 2 s, jittered), so captions are back
/// within about 2 s of NATS accepting again even after a long outage. It does not retry a first connect that
/// fails, so that one runs under the product's <see cref="Backoff"/> with the same figures, in the background: the
/// sidecar captions everywhere else meanwhile. The client's own log is not wired in (it warns at every failed
/// attempt); this publisher logs the loss once and the return once.</para>
/// </remarks>
internal sealed partial class RelayPublisher : IHostedService, IAsyncDisposable
{
    /// <summary>Inputs queued for the loop before a writer waits.</summary>
    public const int InputCapacity = 1024;

    private readonly RelayEndpoint _endpoint;
    private readonly TimeProvider _time;
    private readonly ILogger<RelayPublisher> _logger;
    private readonly NatsConnection _connection;
    private readonly Channel<Input> _inputs = Channel.CreateBounded<Input>(
        new BoundedChannelOptions(InputCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly RelayOutbox _outbox = new();
    private readonly Dictionary<string, Task> _publishes = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abort = new();
    private CancellationTokenSource _inFlight = new();
    private RelayOutputStatus _status;
    private Task _loop = Task.CompletedTask;
    private Task _connect = Task.CompletedTask;
    private long _lostAt;
    private int _unpublished;
    private int _disposed;
    private bool _stopping;

    public RelayPublisher(IOptions<RelayPublisherOptions> options, TimeProvider time, ILogger<RelayPublisher> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _endpoint = RelayEndpoint.From(options.Value);
        _time = time;
        _logger = logger;
        _connection = new NatsConnection(_endpoint.ToNatsOpts(BackoffSettings.LocalPeer.FirstDelay, BackoffSettings.LocalPeer.MaxDelay));
        _connection.ConnectionOpened += (_, _) => PostInputAsync(new Input.Connected());
        _connection.ConnectionDisconnected += (_, _) => PostInputAsync(new Input.Unreachable("the connection to NATS was lost"));
        _connection.ServerError += (_, e) => PostInputAsync(new Input.ServerError(e.Error));
        _status = new RelayOutputStatus(_endpoint.DisplayUrl, _endpoint.Stream, false, 0, 0, 0, null);
    }

    /// <summary>The NATS server as logs show it (password as <c>***</c>).</summary>
    public string DisplayUrl => _endpoint.DisplayUrl;

    /// <summary>The stream's name on NATS.</summary>
    public string Stream => _endpoint.Stream;

    /// <summary>The state now; cheap (a snapshot the loop refreshes).</summary>
    public RelayOutputStatus Status => Volatile.Read(ref _status);

    /// <summary>Queues <paramref name="message"/> for publishing; waits only while the loop's queue is full.</summary>
    public ValueTask PostAsync(RelayMessage message, CancellationToken cancellationToken) =>
        _inputs.Writer.WriteAsync(new Input.Update(message), cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogStarting(_endpoint.DisplayUrl, _endpoint.Stream, _endpoint.Subject("LANG"));
        _loop = RunAsync();
        _connect = ConnectAsync(_stop.Token);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Publishes what is left (the dispatcher, stopped before, has closed every language) while connected, until
    /// <paramref name="cancellationToken"/> (the host's shutdown limit); then the server confirms it has them all.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        try
        {
            await _inputs.Writer.WriteAsync(new Input.Stop(), cancellationToken);
            await _loop.WaitAsync(cancellationToken);
            if (_connection.ConnectionState == NatsConnectionState.Open)
            {
                // Published means handed to the client: the ping's answer means the server has handled them all.
                await _connection.PingAsync(cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            LogStopCut(Volatile.Read(ref _unpublished));
        }
        catch (Exception ex) when (ex is NatsException or ObjectDisposedException)
        {
            LogFlushFailed(ex);
        }
        finally
        {
            await _abort.CancelAsync();
        }

        await ObserveAsync(_loop);
        await ObserveAsync(_connect);
    }

    /// <summary>Closes the connection. Idempotent: the container disposes this once as itself and once as a hosted service.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        await _abort.CancelAsync();
        await _connection.DisposeAsync();
        await ObserveAsync(_loop);
        await ObserveAsync(_connect);
        Task[] publishes;
        lock (_publishes)
        {
            publishes = [.. _publishes.Values];
        }

        await Task.WhenAll(publishes.Select(ObserveAsync));
        _stop.Dispose();
        _abort.Dispose();
        _inFlight.Dispose();
    }

    /// <summary>The first connect, retried with the product's backoff until it succeeds; the client reconnects by itself after that.</summary>
    private async Task ConnectAsync(CancellationToken cancellationToken)
    {
        var retry = Backoff.Forever(
            BackoffSettings.LocalPeer,
            _time,
            attempt => _inputs.Writer.TryWrite(new Input.Unreachable(Reason(attempt.Failure))),
            ex => ex is not (OperationCanceledException or ObjectDisposedException));
        try
        {
            await retry.ExecuteAsync(async _ => await _connection.ConnectAsync(), cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
            // Stopped before NATS could be reached.
        }
    }

    private async Task RunAsync()
    {
        var reader = _inputs.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_abort.Token))
            {
                while (reader.TryRead(out var input))
                {
                    if (input is Input.Stop)
                    {
                        _stopping = true;
                    }

                    foreach (var action in Decide(input))
                    {
                        Apply(action);
                    }

                    Volatile.Write(ref _unpublished, _outbox.Unpublished);
                    Volatile.Write(ref _status, new RelayOutputStatus(
                        _endpoint.DisplayUrl, _endpoint.Stream, _outbox.IsConnected, _outbox.Published, _outbox.Dropped, _outbox.Superseded, _outbox.LastError));
                    if (_stopping && (_outbox.IsIdle || !_outbox.IsConnected))
                    {
                        if (!_outbox.IsIdle)
                        {
                            LogUnpublishedAtStop(_outbox.Unpublished);
                        }

                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Stopping after the shutdown limit ran out (logged by StopAsync).
        }
    }

    private IReadOnlyList<RelayAction> Decide(Input input) => input switch
    {
        Input.Update update => _outbox.Update(update.Message),
        Input.Connected => _outbox.Connected(),
        Input.Unreachable lost => _outbox.Unreachable(lost.Reason),
        Input.ServerError error => _outbox.ServerError(error.Error),
        Input.Published done => _outbox.PublishSucceeded(done.Language),
        Input.Failed failed => _outbox.PublishFailed(failed.Language, failed.Reason, failed.Retry),
        _ => [],
    };

    private void Apply(RelayAction action)
    {
        switch (action)
        {
            case RelayAction.Publish publish:
                var token = _inFlight.Token;
                lock (_publishes)
                {
                    _publishes[publish.Message.Language] = PublishAsync(publish.Message, token);
                }

                break;
            case RelayAction.CancelPublishes:
                _inFlight.Cancel();
                _inFlight.Dispose();
                _inFlight = new CancellationTokenSource();
                break;
            case RelayAction.ReportLost lost when lost.NeverConnected:
                _lostAt = _time.GetTimestamp();
                LogUnreachable(_endpoint.DisplayUrl, lost.Reason);
                break;
            case RelayAction.ReportLost lost:
                _lostAt = _time.GetTimestamp();
                LogLost(_endpoint.DisplayUrl, lost.Reason);
                break;
            case RelayAction.ReportConnected:
                LogConnected(_endpoint.DisplayUrl, _endpoint.Stream);
                break;
            case RelayAction.ReportBack back:
                LogBack(_endpoint.DisplayUrl, (long)_time.GetElapsedTime(_lostAt).TotalMilliseconds, back.Languages);
                break;
            case RelayAction.ReportTooLarge tooLarge:
                LogTooLarge(tooLarge.Message.Language, tooLarge.Message.Payload.Length, CaptionSubjects.MaxPayloadBytes, _outbox.Dropped);
                break;
            case RelayAction.ReportServerError error:
                LogServerError(_endpoint.DisplayUrl, _endpoint.Stream, error.Error);
                break;
            case RelayAction.ReportFailed failed:
                LogPublishFailed(failed.Message.Language, failed.Reason, _outbox.Dropped);
                break;
        }
    }

    /// <summary>One publish; its outcome goes back to the loop. Never throws.</summary>
    private async Task PublishAsync(RelayMessage message, CancellationToken cancellationToken)
    {
        // Run the client's call off the loop's thread: the loop never waits for NATS, even when the call completes inline.
        await Task.Yield();
        Input outcome;
        try
        {
            var headers = new NatsHeaders { [CaptionSubjects.KindHeader] = message.Kind };
            await _connection.PublishAsync(
                _endpoint.Subject(message.Language), message.Payload, headers, serializer: NatsRawSerializer<byte[]>.Default, cancellationToken: cancellationToken);
            outcome = new Input.Published(message.Language);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            outcome = new Input.Failed(message.Language, "the connection to NATS was lost", Retry: true);
        }
        catch (ObjectDisposedException)
        {
            outcome = new Input.Failed(message.Language, "the sidecar is stopping", Retry: false);
        }
        catch (NatsPayloadTooLargeException ex)
        {
            outcome = new Input.Failed(message.Language, ex.Message, Retry: false);
        }
        catch (NatsException ex)
        {
            outcome = new Input.Failed(message.Language, Reason(ex), Retry: true);
        }
        catch (Exception ex)
        {
            LogPublishThrew(ex, message.Language);
            outcome = new Input.Failed(message.Language, ex.Message, Retry: false);
        }

        await PostInputAsync(outcome);
    }

    private async ValueTask PostInputAsync(Input input)
    {
        try
        {
            await _inputs.Writer.WriteAsync(input, _abort.Token);
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Stopped: nobody reads any more.
        }
        catch (ObjectDisposedException)
        {
            // A late event of the client after this publisher was disposed.
        }
    }

    /// <summary>The innermost message of a failure, for people (the client wraps the socket's and the server's errors).</summary>
    private static string Reason(Exception? failure)
    {
        if (failure is null)
        {
            return "unknown failure";
        }

        var inner = failure;
        while (inner.InnerException is { } next)
        {
            inner = next;
        }

        return ReferenceEquals(inner, failure) ? failure.Message : $"{failure.Message}: {inner.Message}";
    }

    private static async Task ObserveAsync(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
            // Expected while stopping.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay output: publishing captions to {Url} as stream {Stream} (subjects {Subject})")]
    private partial void LogStarting(string url, string stream, string subject);

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay output: connected to NATS at {Url}; viewers of stream {Stream} get captions")]
    private partial void LogConnected(string url, string stream);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay output: cannot reach NATS at {Url} ({Reason}); retrying in the background, the other outputs go on; the latest captions of each language go out once it answers")]
    private partial void LogUnreachable(string url, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay output: lost NATS at {Url} ({Reason}); reconnecting in the background, the other outputs go on; the latest captions of each language go out once it is back")]
    private partial void LogLost(string url, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay output: NATS at {Url} is back after {DowntimeMs} ms; the latest captions of {Languages} languages go out now")]
    private partial void LogBack(string url, long downtimeMs, int languages);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay output: an update of {Language} is {Bytes} bytes, over the {Limit} byte limit, and was not published ({Dropped} dropped in all)")]
    private partial void LogTooLarge(string language, int bytes, int limit, long dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay output: an update of {Language} was not published: {Reason} ({Dropped} dropped in all)")]
    private partial void LogPublishFailed(string language, string reason, long dropped);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay output: NATS at {Url} refused: {Error} (may this user publish stream {Stream}? Its permission must allow $KV.captions.STREAM.>)")]
    private partial void LogServerError(string url, string stream, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Relay output: publishing an update of {Language} failed unexpectedly")]
    private partial void LogPublishThrew(Exception ex, string language);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay output: stopping without NATS; the latest updates of {Languages} languages were not published")]
    private partial void LogUnpublishedAtStop(int languages);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay output: shutdown time ran out with updates of {Languages} languages not confirmed by NATS")]
    private partial void LogStopCut(int languages);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relay output: NATS did not confirm the last updates while stopping")]
    private partial void LogFlushFailed(Exception ex);

    /// <summary>What the loop reads.</summary>
    private abstract record Input
    {
        public sealed record Update(RelayMessage Message) : Input;

        public sealed record Connected : Input;

        public sealed record Unreachable(string Reason) : Input;

        public sealed record ServerError(string Error) : Input;

        public sealed record Published(string Language) : Input;

        public sealed record Failed(string Language, string Reason, bool Retry) : Input;

        public sealed record Stop : Input;
    }
}
