namespace CaptionSidecar.Realtime;

/// <summary>The Realtime service rejected the API key (HTTP 401 or 403 at connect). Retrying cannot help.</summary>
public sealed class RealtimeAuthenticationException : Exception
{
    public RealtimeAuthenticationException()
    {
    }

    public RealtimeAuthenticationException(string message)
        : base(message)
    {
    }

    public RealtimeAuthenticationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
