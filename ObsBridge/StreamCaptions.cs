using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Polly;

namespace CaptionSidecar.ObsBridge;

/// <summary>
/// Native CEA-608 stream captions: one loop that owns the stream state and the waiting frames and reads one bounded
/// channel of inputs (finished lines, stream state events, reconnects, its own timer ticks). OBS releases one queued
/// caption per video frame (display duration 0 from obs-websocket), so it never holds more than we send: this loop
/// keeps each frame up long enough to read (by length, between the minimum and maximum display time), shortens that
/// to the minimum while frames wait, and keeps at most <see cref="ObsCaptionOutputOptions.NativeCaptionBacklog"/>
/// frames (the oldest dropped, counted) so captions stay in step with speech. Lines of named speakers follow the
/// broadcast convention: a caption that starts another speaker's lines is led by <c>&gt;&gt; NAME: </c>. The marker is
/// laid out with its line when the line arrives, and checked against the speaker of the last frame OBS accepted when
/// a frame is sent, so a marked frame that was dropped (backlog, OBS refusing) moves its marker to the next frame.
/// </summary>
internal sealed partial class StreamCaptions : IAsyncDisposable
{
    private const int InputCapacity = 256;

    private readonly ObsClient _client;
    private readonly ObsCaptionOutputOptions _options;
    private readonly ResiliencePipeline _retry;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<Input> _inputs = Channel.CreateBounded<Input>(new BoundedChannelOptions(InputCapacity)
    {
        // Writers use TryWrite: when the loop is this far behind, the input is dropped (a line is counted; a state
        // change is read again on the next reconnect) rather than blocking the caption path.
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private readonly Queue<Frame> _frames = new();
    private readonly ITimer _tick;
    private Task? _loop;
    private volatile bool _streaming;
    private DateTimeOffset _nextAllowed;
    private string? _lastQueuedSpeaker;
    private string? _lastSentSpeaker;
    private long _sent;
    private long _dropped;

    public StreamCaptions(ObsClient client, ObsCaptionOutputOptions options, ResiliencePipeline retry, TimeProvider time, ILogger logger)
    {
        _client = client;
        _options = options;
        _retry = retry;
        _time = time;
        _logger = logger;
        _tick = time.CreateTimer(static s => ((StreamCaptions)s!).Post(new Input(InputKind.Tick)), this,
            Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    private enum InputKind
    {
        Line,
        StreamState,
        Connected,
        Tick,
    }

    /// <summary>True while OBS reports its stream output active (written only by the loop).</summary>
    public bool IsStreaming => _streaming;

    /// <summary>Frames OBS accepted.</summary>
    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Frames dropped (not streaming, OBS down, backlog full, or not accepted in time).</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Start(CancellationToken stopping) => _loop ??= Task.Run(() => RunAsync(stopping), CancellationToken.None);

    /// <summary>A finished line of the native caption language, and who said it (null: the one unnamed speaker).</summary>
    public void AddLine(string line, string? speaker = null)
    {
        if (!Post(new Input(InputKind.Line, line, Speaker: speaker)))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>From an OBS <c>StreamStateChanged</c> event.</summary>
    public void StreamStateChanged(bool active) => Post(new Input(InputKind.StreamState, Active: active));

    /// <summary>After every (re)connect: the stream state is read again.</summary>
    public void Connected() => Post(new Input(InputKind.Connected));

    /// <summary>Reading time of a frame: ~17 characters a second, clamped to the configured display range; the
    /// minimum while more frames wait.</summary>
    internal static TimeSpan DisplayTime(ObsCaptionOutputOptions options, string frame, int waiting)
    {
        if (waiting > 0)
        {
            return options.NativeCaptionMinDisplay;
        }

        var reading = TimeSpan.FromSeconds(frame.Length / 17.0);
        return reading < options.NativeCaptionMinDisplay ? options.NativeCaptionMinDisplay
            : reading > options.NativeCaptionMaxDisplay ? options.NativeCaptionMaxDisplay
            : reading;
    }

    /// <summary>Waits for the loop (its token is cancelled by the owner first) and stops the timer.</summary>
    public async ValueTask DisposeAsync()
    {
        _inputs.Writer.TryComplete();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        await _tick.DisposeAsync().ConfigureAwait(false);
    }

    private bool Post(Input input) => _inputs.Writer.TryWrite(input);

    private async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (await _inputs.Reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                var resync = false;
                while (_inputs.Reader.TryRead(out var input))
                {
                    resync |= Apply(input);
                }

                if (resync)
                {
                    await ReadStreamStateAsync(stopping).ConfigureAwait(false);
                }

                await SendDueAsync(stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped.
        }
    }

    /// <summary>Applies one input to the loop's state; true when the stream state must be read from OBS.</summary>
    private bool Apply(Input input)
    {
        switch (input.Kind)
        {
            case InputKind.Line when _streaming:
                foreach (var frame in Frames(input.Text!, input.Speaker))
                {
                    _frames.Enqueue(frame);
                    if (_frames.Count > _options.NativeCaptionBacklog)
                    {
                        _frames.Dequeue();
                        Interlocked.Increment(ref _dropped);
                    }
                }

                return false;
            case InputKind.StreamState:
                SetStreaming(input.Active);
                return false;
            case InputKind.Connected:
                return true;
            default:
                return false; // a line while not streaming (native captions only exist in a running stream), or a tick
        }
    }

    /// <summary>A line's frames; the first is led by the speaker's marker when the speaker differs from the last line's.</summary>
    private List<Frame> Frames(string text, string? speaker)
    {
        if (text.Length == 0)
        {
            return [new Frame(string.Empty, null, Marked: false)]; // an empty caption, as before speakers
        }

        var marked = speaker is not null && speaker != _lastQueuedSpeaker && Cea608Text.Sanitize(text).Length > 0;
        _lastQueuedSpeaker = speaker;
        var frames = Cea608Text.ToFrames(marked ? Cea608Text.SpeakerChange(speaker!) + text : text, _options.NativeCaptionRows);
        return [.. frames.Select((frame, i) => new Frame(frame, speaker, marked && i == 0))];
    }

    /// <summary>
    /// When the next frame starts another speaker's captions than the last one shown but lost its marker (the marked
    /// frame was dropped), lays it out again with the marker in front.
    /// </summary>
    private void MarkSpeakerChange()
    {
        var next = _frames.Peek();
        if (next.Speaker is null || next.Marked || next.Speaker == _lastSentSpeaker || next.Text.Length == 0)
        {
            return;
        }

        var rest = _frames.Skip(1).ToList();
        _frames.Clear();
        var relaid = Cea608Text.ToFrames(Cea608Text.SpeakerChange(next.Speaker) + next.Text, _options.NativeCaptionRows);
        for (var i = 0; i < relaid.Count; i++)
        {
            _frames.Enqueue(new Frame(relaid[i], next.Speaker, Marked: i == 0));
        }

        rest.ForEach(_frames.Enqueue);
    }

    private async Task ReadStreamStateAsync(CancellationToken stopping)
    {
        try
        {
            var status = await _client.SendRequestAsync("GetStreamStatus", null, stopping).ConfigureAwait(false);
            if (status.IsSuccess)
            {
                SetStreaming(status.Data.GetProperty("outputActive").GetBoolean());
            }
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or KeyNotFoundException or InvalidOperationException
                                       or JsonException)
        {
            // The next reconnect reads it again; StreamStateChanged events keep it current meanwhile.
            LogSendFailed("stream state", ex.Message);
        }
    }

    private async Task SendDueAsync(CancellationToken stopping)
    {
        while (_frames.Count > 0)
        {
            if (!_streaming || !_client.IsConnected)
            {
                Interlocked.Add(ref _dropped, _frames.Count);
                _frames.Clear();
                return;
            }

            var now = _time.GetUtcNow();
            if (now < _nextAllowed)
            {
                _tick.Change(_nextAllowed - now, Timeout.InfiniteTimeSpan);
                return;
            }

            MarkSpeakerChange();
            var frame = _frames.Dequeue();
            if (await SendFrameAsync(frame.Text, stopping).ConfigureAwait(false))
            {
                _nextAllowed = _time.GetUtcNow() + DisplayTime(_options, frame.Text, _frames.Count);
                if (frame.Text.Length > 0)
                {
                    _lastSentSpeaker = frame.Speaker;
                }
            }
        }
    }

    /// <summary>
    /// Sends one frame, retried through the retry policy while it is still worth showing: no new attempt starts after
    /// the maximum display time (the frame is then dropped and counted). Returns true when OBS accepted it.
    /// </summary>
    private async Task<bool> SendFrameAsync(string frame, CancellationToken stopping)
    {
        // A deadline checked by each retry, not a token: a loaded machine must not cancel the first attempt before it starts.
        var deadline = _time.GetUtcNow() + _options.NativeCaptionMaxDisplay;
        var attempt = 0;
        try
        {
            var outcome = await _retry.ExecuteAsync(async _ =>
            {
                if (attempt++ > 0 && _time.GetUtcNow() > deadline)
                {
                    return FrameOutcome.Stale;
                }

                var response = await _client.SendRequestAsync("SendStreamCaption", new JsonObject { ["captionText"] = frame }, stopping)
                    .ConfigureAwait(false);
                if (response.Code == ObsStatusCode.OutputNotRunning)
                {
                    return FrameOutcome.NotStreaming; // not a failure to retry: the stream ended
                }

                response.EnsureSuccess();
                return FrameOutcome.Accepted;
            }, stopping).ConfigureAwait(false);
            switch (outcome)
            {
                case FrameOutcome.Accepted:
                    Interlocked.Increment(ref _sent);
                    return true;
                case FrameOutcome.NotStreaming:
                    SetStreaming(false);
                    break;
                default:
                    LogSendFailed("stream captions", "not accepted in time");
                    break;
            }
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or ObsRequestFailedException)
        {
            // Only a retry policy with a limit gets here.
            LogSendFailed("stream captions", ex.Message);
        }

        Interlocked.Increment(ref _dropped);
        return false;
    }

    private void SetStreaming(bool streaming)
    {
        if (streaming != _streaming)
        {
            _streaming = streaming;
            // A new stream has new viewers: its first caption names its speaker.
            _lastQueuedSpeaker = null;
            _lastSentSpeaker = null;
            LogStreamState(streaming);
        }
    }

    private enum FrameOutcome
    {
        Accepted,
        NotStreaming,
        Stale,
    }

    private readonly record struct Input(InputKind Kind, string? Text = null, bool Active = false, string? Speaker = null);

    /// <summary>A caption frame waiting to be sent: its text, its speaker, and whether it carries the speaker marker.</summary>
    private readonly record struct Frame(string Text, string? Speaker, bool Marked);

    [LoggerMessage(Level = LogLevel.Debug, Message = "OBS caption update for {Target} not delivered: {Reason}")]
    private partial void LogSendFailed(string target, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "OBS streaming: {Streaming}")]
    private partial void LogStreamState(bool streaming);
}
