using System.Collections.Concurrent;
using System.Threading.Channels;
using CaptionSidecar.Overlay;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace CaptionSidecar.Relay;

/// <summary>
/// The relay's one loop: reads the checked updates from NATS and the timer's ticks from one bounded channel, owns the
/// <see cref="TentativeCoalescer"/>, and publishes what it lets through to the stream's <see cref="CaptionFeed"/>
/// (one per stream, made on first use, at most <see cref="RelayServerOptions.MaxStreams"/>). One timer for every
/// held update, none per viewer. The channel holds 1024 items; when full, the NATS reader waits (NATS's own flow
/// control then holds the rest) and a tick is dropped (every pass of the loop also sends what is due).
/// </summary>
public sealed partial class RelayHub : BackgroundService
{
    private const int ChannelCapacity = 1024;
    private readonly Channel<StreamCaptionUpdate?> _input = Channel.CreateBounded<StreamCaptionUpdate?>(
        new BoundedChannelOptions(ChannelCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly ConcurrentDictionary<string, StreamFeed> _streams = new(StringComparer.Ordinal);
    private readonly Lock _streamsGate = new();
    private readonly TentativeCoalescer _coalescer = new();
    private readonly Dictionary<(string, string), long> _lastSequence = [];
    private readonly RelayServerOptions _options;
    private readonly IOptions<OverlayServerOptions> _feedOptions;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger<RelayHub> _logger;
    private readonly RelayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private bool _streamsFullLogged;

    /// <summary>Creates the hub; each viewer's queue holds <see cref="RelayServerOptions.ViewerQueueCapacity"/> updates.</summary>
    public RelayHub(IOptions<RelayServerOptions> options, RelayMetrics metrics, TimeProvider time, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _feedOptions = Options.Create(new OverlayServerOptions { ClientQueueCapacity = _options.ViewerQueueCapacity });
        _metrics = metrics;
        _time = time;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<RelayHub>();
        _timer = time.CreateTimer(_ => _input.Writer.TryWrite(null), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        foreach (var stream in _options.StreamList())
        {
            // The listed streams have their feed from the start: their viewers may come before the streamer.
            StreamFor(stream);
        }
    }

    /// <summary>Hands one checked update to the loop; waits while the loop's queue is full.</summary>
    public ValueTask PostAsync(StreamCaptionUpdate update, CancellationToken cancellationToken) => _input.Writer.WriteAsync(update, cancellationToken);

    /// <summary>
    /// The feed of <paramref name="stream"/>, or null when this relay has none: a stream has a feed once NATS brought one
    /// of its updates (or it is in <see cref="RelayServerOptions.Streams"/>), so viewers asking for made-up names
    /// cannot use up <see cref="RelayServerOptions.MaxStreams"/>.
    /// </summary>
    public CaptionFeed? FeedFor(string stream) => _streams.TryGetValue(stream, out var feed) ? feed.Feed : null;

    /// <summary>The live languages of <paramref name="stream"/> (an update that is not closed), in code order.</summary>
    public IReadOnlyList<string> LanguagesOf(string stream)
    {
        if (!_streams.TryGetValue(stream, out var feed))
        {
            return [];
        }

        lock (feed.Languages)
        {
            return [.. feed.Languages];
        }
    }

    /// <summary>Viewers dropped as too slow, over every feed.</summary>
    public long SlowViewersDropped => _streams.Values.Sum(s => s.Feed.SlowClientsDropped);

    /// <inheritdoc />
    public override void Dispose()
    {
        _timer.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var item in _input.Reader.ReadAllAsync(stoppingToken))
            {
                var now = _time.GetUtcNow();
                if (item is not null)
                {
                    Forward(_coalescer.OnUpdate(item, now));
                }

                Forward(_coalescer.OnTick(now));
                _metrics.SetCoalesced(_coalescer.Coalesced);
                _timer.Change(_coalescer.NextDue is { } due ? Max(due - now, TimeSpan.FromMilliseconds(1)) : Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private void Forward(IReadOnlyList<StreamCaptionUpdate> updates)
    {
        foreach (var update in updates)
        {
            var key = (update.Stream, update.Language);
            if (_lastSequence.TryGetValue(key, out var last) && update.Caption.Sequence <= last)
            {
                // A replay of what was forwarded (the watch starts again with the current values after a reconnect).
                _metrics.CountStale();
                continue;
            }

            if (StreamFor(update.Stream) is not { } stream)
            {
                if (!_streamsFullLogged)
                {
                    _streamsFullLogged = true;
                    LogTooManyStreams(update.Stream, _options.MaxStreams);
                }

                continue;
            }

            _lastSequence[key] = update.Caption.Sequence;
            lock (stream.Languages)
            {
                if (update.Kind == CaptionUpdateKinds.Closed)
                {
                    stream.Languages.Remove(update.Language);
                }
                else
                {
                    stream.Languages.Add(update.Language);
                }
            }

            var caption = update.Kind == CaptionUpdateKinds.Closed
                ? update.Caption with { Lines = [], Cleared = true }
                : update.Caption;
            stream.Feed.Publish(caption);
            _metrics.CountForwarded();
        }
    }

    private StreamFeed? StreamFor(string stream)
    {
        if (_streams.TryGetValue(stream, out var feed))
        {
            return feed;
        }

        lock (_streamsGate)
        {
            if (_streams.TryGetValue(stream, out feed))
            {
                return feed;
            }

            if (_streams.Count >= _options.MaxStreams)
            {
                return null;
            }

            feed = new StreamFeed(new CaptionFeed(_feedOptions, _loggerFactory.CreateLogger<CaptionFeed>()));
            _streams[stream] = feed;
            return feed;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stream {Stream} (and any other new one) not served: this relay already serves {Max} streams (RelayServer:MaxStreams)")]
    private partial void LogTooManyStreams(string stream, int max);

    private sealed record StreamFeed(CaptionFeed Feed)
    {
        public SortedSet<string> Languages { get; } = new(StringComparer.Ordinal);
    }
}
