using CaptionSidecar.Realtime;

namespace CaptionSidecar.Tests.Realtime;

/// <summary>The Realtime options a track uses against the fake server in tests.</summary>
internal static class FakeServerTrackOptions
{
    /// <summary>
    /// Server VAD (the fake's energy VAD answers it), the fake's test key, and drain and handshake timeouts generous
    /// enough for a loaded machine; <paramref name="configure"/> changes the rest.
    /// </summary>
    public static RealtimeOptions For(Uri endpoint, Action<RealtimeOptions>? configure = null)
    {
        var options = new RealtimeOptions
        {
            ApiKey = "test-key",
            Endpoint = endpoint,
            TurnDetection = TurnDetectionMode.ServerVad,
            DrainTimeoutSeconds = 20,
            HandshakeTimeoutSeconds = 10,
        };
        configure?.Invoke(options);
        return options;
    }
}
