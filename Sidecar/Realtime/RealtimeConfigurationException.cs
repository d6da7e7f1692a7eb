namespace CaptionSidecar.Realtime;

/// <summary>The server refused the session configuration (for example an unknown model): retrying cannot help.</summary>
public sealed class RealtimeConfigurationException : Exception
{
    public RealtimeConfigurationException()
    {
    }

    public RealtimeConfigurationException(string message)
        : base(message)
    {
    }

    public RealtimeConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
