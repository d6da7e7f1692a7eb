using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace CaptionSidecar.ObsBridge;

/// <summary>Whether an OBS input is muted, as far as <see cref="ObsInputMuteWatch"/> knows.</summary>
public enum ObsMuteState
{
    /// <summary>Not known: OBS was never reached, or the input is missing or has no audio.</summary>
    Unknown,

    /// <summary>The input is not muted.</summary>
    Unmuted,

    /// <summary>The input is muted.</summary>
    Muted,
}

/// <summary>
/// Follows the mute state of one OBS input: reads <c>GetInputMute</c> on every (re)connect and follows
/// <c>InputMuteStateChanged</c> (Inputs subscription) and <c>InputNameChanged</c> (a renamed input is followed under its
/// new name). A missing input, or one without audio, is <see cref="ObsMuteState.Unknown"/> with a warning that names
/// it and the inputs OBS has.
/// </summary>
/// <remarks>
/// While OBS is unreachable the last known state is kept, on purpose: a streamer who muted and then lost OBS (crash,
/// restart) stays muted until OBS says otherwise, so a privacy mute never lapses because a connection dropped.
/// </remarks>
public sealed partial class ObsInputMuteWatch : IAsyncDisposable
{
    private readonly ObsClient _client;
    private readonly ILogger<ObsInputMuteWatch> _logger;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stopping = new();

    // Read requests (a reconnect, the input created again) for the one read loop; requests that arrive while one is
    // waiting are the same request, so a full queue drops them.
    private readonly Channel<bool> _readRequests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private Task? _readLoop;
    private ObsMuteState _state = ObsMuteState.Unknown;
    private string _inputName;
    private long _generation;
    private int _started;
    private int _disposed;

    /// <summary>Creates the watch over <paramref name="client"/> for the input named <paramref name="inputName"/>.</summary>
    public ObsInputMuteWatch(ObsClient client, string inputName, ILogger<ObsInputMuteWatch> logger)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(inputName);
        _client = client;
        _inputName = inputName;
        _logger = logger;
    }

    /// <summary>Raised (on the client's dispatch loop or a request continuation) when <see cref="State"/> changes.</summary>
    public event EventHandler<ObsMuteState>? StateChanged;

    /// <summary>The name of the input followed (it changes when the input is renamed in OBS).</summary>
    public string InputName
    {
        get
        {
            lock (_gate)
            {
                return _inputName;
            }
        }
    }

    /// <summary>The current state; the last known one while OBS is unreachable.</summary>
    public ObsMuteState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>Subscribes to the client and starts it (idempotent); reads the state now when OBS is connected.</summary>
    public void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return;
        }

        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
        _client.Connected += OnConnected;
        _client.EventReceived += OnEvent;
        _client.Start();
        if (_client.IsConnected)
        {
            OnConnected(_client, EventArgs.Empty);
        }
    }

    /// <summary>Unsubscribes and waits for a read in progress (the client is not disposed: its owner does that).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _client.Connected -= OnConnected;
        _client.EventReceived -= OnEvent;
        _readRequests.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_readLoop is not null)
        {
            await _readLoop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private void OnConnected(object? sender, EventArgs e) => _readRequests.Writer.TryWrite(true);

    /// <summary>The only task that reads the mute state from OBS, one read at a time, until disposal.</summary>
    private async Task ReadLoopAsync()
    {
        try
        {
            while (await _readRequests.Reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                _readRequests.Reader.TryRead(out _);
                await ReadStateAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    private void OnEvent(object? sender, ObsEvent e)
    {
        if (e.EventData is not { ValueKind: JsonValueKind.Object } data)
        {
            return;
        }

        switch (e.EventType)
        {
            case "InputMuteStateChanged"
                when data.TryGetProperty("inputName", out var n) && data.TryGetProperty("inputMuted", out var m)
                                                                 && m.ValueKind is JsonValueKind.True or JsonValueKind.False:
                lock (_gate)
                {
                    if (!string.Equals(n.GetString(), _inputName, StringComparison.Ordinal))
                    {
                        return;
                    }

                    // An event is newer than any GetInputMute answer still on its way.
                    _generation++;
                }

                Set(m.GetBoolean() ? ObsMuteState.Muted : ObsMuteState.Unmuted);
                break;
            case "InputNameChanged"
                when data.TryGetProperty("oldInputName", out var oldName) && data.TryGetProperty("inputName", out var newName):
                lock (_gate)
                {
                    if (!string.Equals(oldName.GetString(), _inputName, StringComparison.Ordinal) || newName.GetString() is not { Length: > 0 } renamed)
                    {
                        return;
                    }

                    _inputName = renamed;
                }

                LogRenamed(oldName.GetString(), newName.GetString());
                break;
            case "InputRemoved" when data.TryGetProperty("inputName", out var removed):
                if (string.Equals(removed.GetString(), InputName, StringComparison.Ordinal))
                {
                    LogRemoved(removed.GetString());
                    lock (_gate)
                    {
                        _generation++;
                    }

                    Set(ObsMuteState.Unknown);
                }

                break;
            case "InputCreated" when data.TryGetProperty("inputName", out var created):
                if (string.Equals(created.GetString(), InputName, StringComparison.Ordinal))
                {
                    _readRequests.Writer.TryWrite(true);
                }

                break;
        }
    }

    private async Task ReadStateAsync()
    {
        string name;
        long generation;
        lock (_gate)
        {
            name = _inputName;
            generation = ++_generation;
        }

        try
        {
            var response = await _client.SendRequestAsync("GetInputMute", new JsonObject { ["inputName"] = name }, _stopping.Token)
                .ConfigureAwait(false);
            if (response.IsSuccess && response.Data.TryGetProperty("inputMuted", out var muted))
            {
                SetIfCurrent(generation, muted.GetBoolean() ? ObsMuteState.Muted : ObsMuteState.Unmuted);
                return;
            }

            var inputs = await ListInputsAsync().ConfigureAwait(false);
            LogInputUnusable(name, response.Code, response.Comment, inputs);
            SetIfCurrent(generation, ObsMuteState.Unknown);
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or OperationCanceledException)
        {
            // Keep the last known state; the next Connected reads it again.
            LogReadFailed(name, ex.Message);
        }
    }

    private async Task<string> ListInputsAsync()
    {
        try
        {
            var list = await _client.SendRequestAsync("GetInputList", null, _stopping.Token).ConfigureAwait(false);
            if (list.IsSuccess && list.Data.TryGetProperty("inputs", out var inputs) && inputs.ValueKind == JsonValueKind.Array)
            {
                var names = inputs.EnumerateArray()
                    .Select(i => i.TryGetProperty("inputName", out var n) ? n.GetString() : null)
                    .OfType<string>()
                    .Select(n => "'" + n + "'")
                    .ToList();
                return names.Count == 0 ? "none" : string.Join(", ", names);
            }
        }
        catch (Exception ex) when (ex is ObsConnectionLostException or TimeoutException or OperationCanceledException)
        {
            return "unknown (" + ex.Message + ")";
        }

        return "unknown";
    }

    private void SetIfCurrent(long generation, ObsMuteState state)
    {
        lock (_gate)
        {
            if (generation != _generation)
            {
                return; // a newer event or read decided meanwhile
            }
        }

        Set(state);
    }

    private void Set(ObsMuteState state)
    {
        lock (_gate)
        {
            if (_state == state)
            {
                return;
            }

            _state = state;
        }

        StateChanged?.Invoke(this, state);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS input '{InputName}' cannot be watched for mute (OBS status {Code}: {Comment}); its mute state is unknown, so captioning is not paused. Inputs in OBS: {Inputs}")]
    private partial void LogInputUnusable(string inputName, int code, string? comment, string inputs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not read the mute state of OBS input '{InputName}': {Reason}; keeping the last known state")]
    private partial void LogReadFailed(string inputName, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "OBS input '{OldName}' was renamed to '{NewName}'; following the new name")]
    private partial void LogRenamed(string? oldName, string? newName);

    [LoggerMessage(Level = LogLevel.Warning, Message = "OBS input '{InputName}' was removed; its mute state is unknown until it exists again")]
    private partial void LogRemoved(string? inputName);
}
