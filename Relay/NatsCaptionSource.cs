using System.Text.Json;
using CaptionSidecar.Overlay;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Polly;

namespace CaptionSidecar.Relay;

/// <summary>The retry policy of the relay's watch (the host's one backoff policy, jittered).</summary>
/// <param name="Pipeline">Retries a failed watch start without limit, with growing jittered waits.</param>
public sealed record RelayRetryPolicy(ResiliencePipeline Pipeline);

/// <summary>
/// The relay's side of NATS: connects (reconnecting by itself forever, with short waits), makes the bucket when it is
/// missing, and watches it: the current value of every key first, then each update, checked and handed to the
/// <see cref="RelayHub"/>. The watch is the key-value watch's own mechanism (a push consumer on the bucket's stream,
/// delivering the last message per subject first, with flow control and heartbeats), made directly because the
/// key-value API of NATS.Net 3.3.2 does not expose a message's headers (<see cref="CaptionSubjects.KindHeader"/> is
/// one) and its ordered consumer sends a filter list that nats-server 2.9 refuses. A lost connection starts the watch
/// again as soon as NATS.Net has reconnected; a watch that fails (or falls silent) is retried with the host's backoff.
/// </summary>
public sealed partial class NatsCaptionSource(
    IOptions<RelayServerOptions> options,
    RelayHub hub,
    RelayMetrics metrics,
    RelayRetryPolicy retry,
    TimeProvider time,
    ILogger<NatsCaptionSource> logger) : BackgroundService
{
    private const string KvOperationHeader = "KV-Operation";
    private static readonly TimeSpan RejectLogInterval = TimeSpan.FromSeconds(10);
    private readonly RelayServerOptions _options = options.Value;
    private NatsConnection? _connection;
    private DateTimeOffset _lastRejectLog = DateTimeOffset.MinValue;
    private long _rejectedSinceLog;
    private volatile string _state = "not connected to NATS yet";

    /// <summary>Why the relay is not serving live captions, or null while it is connected and watching.</summary>
    public string? Unhealthy => metrics.NatsConnected ? null : _state;

    /// <summary>The bucket's settings (docs/relay.md): last value per key, on disk, a day, 64 KiB values.</summary>
    public static NatsKVConfig BucketConfig() => new(CaptionSubjects.Bucket)
    {
        History = 1,
        Storage = NatsKVStorageType.File,
        MaxAge = TimeSpan.FromHours(24),
        MaxValueSize = CaptionSubjects.MaxPayloadBytes,
        Description = "Caption state per stream and language (CaptionSidecar relay)",
    };

    /// <summary>The connection options: credentials from the URL, the user and password, or a .creds file; reconnect forever.</summary>
    public static NatsOpts ConnectionOptions(RelayServerOptions settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var auth = NatsAuthOpts.Default;
        if (!string.IsNullOrEmpty(settings.CredentialsFile))
        {
            auth = auth with { CredsFile = settings.CredentialsFile };
        }
        else if (!string.IsNullOrEmpty(settings.User))
        {
            auth = auth with { Username = settings.User, Password = settings.Password };
        }

        return NatsOpts.Default with
        {
            Url = settings.Url!,
            Name = "captionsidecar-relay",
            AuthOpts = auth,
            MaxReconnectRetry = -1,
            // Short waits: viewers get captions again within about a second of NATS accepting after a restart.
            ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
            ReconnectWaitMax = TimeSpan.FromMilliseconds(500),
            ReconnectJitter = TimeSpan.FromMilliseconds(100),
            RetryOnInitialConnect = true,
        };
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_connection is { } connection)
        {
            await connection.DisposeAsync();
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connection = new NatsConnection(ConnectionOptions(_options));
        _connection = connection;
        connection.ConnectionDisconnected += (_, _) =>
        {
            metrics.SetNatsConnected(false);
            _state = "NATS connection lost; reconnecting";
            LogDisconnected(RelayServerOptions.RedactUrl(_options.Url));
            return ValueTask.CompletedTask;
        };
        LogStarting(RelayServerOptions.RedactUrl(_options.Url), _options.StreamList() is { Count: > 0 } s ? string.Join(',', s) : "all");
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await retry.Pipeline.ExecuteAsync(WatchOnceAsync, connection, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// One watch: from the connection (waiting for it) until the connection is lost or the deliveries stop (no
    /// heartbeat for <see cref="Silence"/>). Returns to be started again at once after a reconnect; throws to be retried
    /// with the backoff.
    /// </summary>
    private async ValueTask WatchOnceAsync(NatsConnection connection, CancellationToken cancellationToken)
    {
        await connection.ConnectAsync();
        using var lost = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        ValueTask OnDisconnected(object? sender, NatsEventArgs args)
        {
            lost.Cancel();
            return ValueTask.CompletedTask;
        }

        connection.ConnectionDisconnected += OnDisconnected;
        try
        {
            var js = new NatsJSContext(connection);
            await EnsureBucketAsync(js, lost.Token);
            // Not connection.NewInbox(): NATS.Net routes its own inbox prefix to request-reply and drops the rest.
            var inbox = $"_INBOX.relay{Guid.NewGuid():N}";
            await using var subscription = await connection.SubscribeCoreAsync<byte[]>(inbox, cancellationToken: lost.Token);
            string[] filters = _options.StreamList() is { Count: > 0 } streams
                ? [.. streams.Select(s => $"$KV.{CaptionSubjects.Bucket}.{s}.*")]
                : [$"$KV.{CaptionSubjects.Bucket}.>"];
            foreach (var filter in filters)
            {
                // One ephemeral push consumer per filter (nats-server 2.9 takes one filter subject per consumer): the
                // last message of every key first, then each new one; gone by itself once nobody listens.
                await js.CreateOrUpdateConsumerAsync(CaptionSubjects.BucketStream, new ConsumerConfig
                {
                    Name = $"relay-{Guid.NewGuid():N}",
                    DeliverSubject = inbox,
                    DeliverPolicy = ConsumerConfigDeliverPolicy.LastPerSubject,
                    AckPolicy = ConsumerConfigAckPolicy.None,
                    FilterSubject = filter,
                    FlowControl = true,
                    IdleHeartbeat = Heartbeat,
                    InactiveThreshold = TimeSpan.FromSeconds(30),
                    MemStorage = true,
                    NumReplicas = 1,
                }, lost.Token);
            }

            metrics.SetNatsConnected(true);
            if (_state != "ok")
            {
                _state = "ok";
                LogWatching();
            }

            await ReadAsync(connection, subscription, lost.Token);
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // The connection was lost: NATS.Net reconnects by itself; the next watch waits for it in ConnectAsync.
            return;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _state = $"the caption watch failed: {ex.Message}";
            LogWatchFailed(ex);
            throw;
        }
        finally
        {
            connection.ConnectionDisconnected -= OnDisconnected;
            metrics.SetNatsConnected(false);
        }
    }

    /// <summary>The heartbeat asked of the server while no caption flows.</summary>
    internal static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(2);

    /// <summary>No message nor heartbeat for this long: the consumer is gone (for example the server restarted).</summary>
    internal static readonly TimeSpan Silence = TimeSpan.FromSeconds(6);

    private async Task ReadAsync(NatsConnection connection, INatsSub<byte[]> subscription, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (!subscription.Msgs.TryRead(out var message))
            {
                try
                {
                    message = await subscription.Msgs.ReadAsync(cancellationToken).AsTask().WaitAsync(Silence, time, cancellationToken);
                }
                catch (TimeoutException)
                {
                    _state = "no heartbeat from NATS; watching again";
                    throw new NatsException($"No caption nor heartbeat from NATS for {Silence.TotalSeconds:0} s.");
                }
            }

            if (message.Headers is { Code: 100 } status)
            {
                // Flow control (and a stalled heartbeat) asks for an empty reply; a plain heartbeat has none.
                var reply = message.ReplyTo
                    ?? (status.TryGetValue("Nats-Consumer-Stalled", out var stalled) ? stalled.ToString() : null);
                if (!string.IsNullOrEmpty(reply))
                {
                    await connection.PublishAsync(reply, cancellationToken: cancellationToken);
                }

                continue;
            }

            metrics.CountIn();
            if (Check(message.Subject, message.Data, message.Headers) is { } update)
            {
                await hub.PostAsync(update, cancellationToken);
            }
        }
    }

    private async Task EnsureBucketAsync(INatsJSContext js, CancellationToken cancellationToken)
    {
        var kv = new NatsKVContext(js);
        try
        {
            await kv.GetStoreAsync(CaptionSubjects.Bucket, cancellationToken);
        }
        catch (NatsKVException)
        {
            await CreateBucketAsync(kv, cancellationToken);
        }
        catch (NatsJSApiException ex) when (ex.Error.Code == 404)
        {
            await CreateBucketAsync(kv, cancellationToken);
        }
    }

    private async Task CreateBucketAsync(NatsKVContext kv, CancellationToken cancellationToken)
    {
        try
        {
            await kv.CreateStoreAsync(BucketConfig(), cancellationToken);
            LogBucketCreated(CaptionSubjects.Bucket);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == 10058)
        {
            // Another relay made it first (stream name already in use).
        }
    }

    /// <summary>Checks one message from the bucket; null (counted, logged now and then) when it must not be forwarded.</summary>
    internal StreamCaptionUpdate? Check(string subject, byte[]? data, NatsHeaders? headers)
    {
        var prefix = $"$KV.{CaptionSubjects.Bucket}.";
        var key = subject.StartsWith(prefix, StringComparison.Ordinal) ? subject[prefix.Length..] : subject;
        var result = CaptionUpdateCheck.Check(key, data, headers?.TryGetValue(CaptionSubjects.KindHeader, out var kind) == true ? kind.ToString() : null,
            headers?.TryGetValue(KvOperationHeader, out var op) == true ? op.ToString() : null, time.GetUtcNow());
        if (result.Update is null)
        {
            metrics.CountRejected();
            Reject(key, result.Problem!);
        }

        return result.Update;
    }

    private void Reject(string key, string problem)
    {
        _rejectedSinceLog++;
        var now = time.GetUtcNow();
        if (now - _lastRejectLog >= RejectLogInterval)
        {
            LogRejected(key, problem, _rejectedSinceLog);
            _lastRejectLog = now;
            _rejectedSinceLog = 0;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Relay watching captions on {Url} (streams: {Streams})")]
    private partial void LogStarting(string url, string streams);

    [LoggerMessage(Level = LogLevel.Information, Message = "Watching the caption bucket; viewers get live captions")]
    private partial void LogWatching();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the NATS connection to {Url}; reconnecting by itself, viewers keep the last captions")]
    private partial void LogDisconnected(string url);

    [LoggerMessage(Level = LogLevel.Debug, Message = "The caption watch failed")]
    private partial void LogWatchFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the key-value bucket {Bucket} (history 1, file storage, 24 h, 64 KiB values)")]
    private partial void LogBucketCreated(string bucket);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dropped a caption update for {Key}: {Problem} ({Count} dropped since the last such message)")]
    private partial void LogRejected(string key, string problem, long count);
}

/// <summary>The checks on one update from the bucket (docs/relay.md), as a plain function.</summary>
public static class CaptionUpdateCheck
{
    /// <summary>The update to forward, or why not.</summary>
    /// <param name="Update">The checked update, or null.</param>
    /// <param name="Problem">What is wrong, when <paramref name="Update"/> is null.</param>
    public readonly record struct Result(StreamCaptionUpdate? Update, string? Problem);

    /// <summary>
    /// Checks that <paramref name="key"/> names a stream and language, the payload is at most 64 KiB of an
    /// <see cref="OverlayCaption"/> of that language, and the kind is known. A deleted or purged key counts as closed.
    /// </summary>
    public static Result Check(string key, byte[]? data, string? kind, string? kvOperation, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (!CaptionSubjects.TryParseKey(key, out var stream, out var language))
        {
            return new(null, "the key is not STREAM.LANG");
        }

        if (kvOperation is "DEL" or "PURGE")
        {
            // No payload: the sequence is made as the sidecar makes it (microseconds since the epoch).
            var sequence = now.ToUnixTimeMilliseconds() * 1000;
            return new(new StreamCaptionUpdate(stream, language, CaptionUpdateKinds.Closed, new OverlayCaption(language, sequence, [], true, now)), null);
        }

        if (data is null || data.Length == 0)
        {
            return new(null, "the payload is empty");
        }

        if (data.Length > CaptionSubjects.MaxPayloadBytes)
        {
            return new(null, $"the payload has {data.Length} bytes, over {CaptionSubjects.MaxPayloadBytes}");
        }

        OverlayCaption? caption;
        try
        {
            caption = JsonSerializer.Deserialize(data, OverlayJsonContext.Default.OverlayCaption);
        }
        catch (JsonException ex)
        {
            return new(null, $"the payload is not a caption message ({ex.Message})");
        }

        if (caption is null || caption.Lines is null)
        {
            return new(null, "the payload is not a caption message");
        }

        if (!string.Equals(caption.Language, language, StringComparison.OrdinalIgnoreCase))
        {
            return new(null, $"the payload's language '{caption.Language}' is not the key's '{language}'");
        }

        var effective = kind switch
        {
            CaptionUpdateKinds.Tentative or CaptionUpdateKinds.Final or CaptionUpdateKinds.Cleared or CaptionUpdateKinds.Closed => kind,
            null or "" => CaptionUpdateKinds.Final,
            _ => null,
        };
        if (effective is null)
        {
            return new(null, $"the {CaptionSubjects.KindHeader} header '{kind}' is not one of tentative, final, cleared, closed");
        }

        return new(new StreamCaptionUpdate(stream, language, effective, caption with { Language = language }), null);
    }
}
