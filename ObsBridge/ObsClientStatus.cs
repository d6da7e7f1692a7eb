namespace CaptionSidecar.ObsBridge;

/// <summary>Connection state of <see cref="ObsClient"/>.</summary>
public enum ObsConnectionState
{
    /// <summary>Not started, or disposed.</summary>
    Stopped,

    /// <summary>Connecting or identifying.</summary>
    Connecting,

    /// <summary>Identified: requests can be sent.</summary>
    Connected,

    /// <summary>Connection lost or OBS unreachable; reconnecting with backoff.</summary>
    Disconnected,

    /// <summary>OBS rejected the password (close 4009); retrying slowly so a fixed password is picked up.</summary>
    AuthenticationFailed,

    /// <summary>OBS does not support rpc version 1 (close 4010); retrying slowly.</summary>
    UnsupportedRpcVersion,

    /// <summary>The session was kicked from the OBS UI (close 4011); the client does not reconnect on its own.</summary>
    SessionInvalidated,
}

/// <summary>A snapshot of the client's connection, for status displays and health checks.</summary>
/// <param name="State">Current state.</param>
/// <param name="LastError">The last connection error in words, or null.</param>
/// <param name="ObsVersion">OBS Studio version from the last Hello.</param>
/// <param name="ObsWebSocketVersion">obs-websocket version from the last Hello.</param>
/// <param name="ConnectedSince">When the current session was identified; null while not connected.</param>
/// <param name="Connections">How many sessions were identified since start.</param>
/// <param name="DroppedEvents">Events dropped because subscribers were too slow.</param>
public sealed record ObsClientStatus(
    ObsConnectionState State,
    string? LastError,
    string? ObsVersion,
    string? ObsWebSocketVersion,
    DateTimeOffset? ConnectedSince,
    long Connections,
    long DroppedEvents);
