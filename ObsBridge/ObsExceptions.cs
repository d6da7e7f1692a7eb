namespace CaptionSidecar.ObsBridge;

/// <summary>The connection to OBS was lost (or was not there) before a request got its response.</summary>
public sealed class ObsConnectionLostException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ObsConnectionLostException()
        : this("The connection to OBS was lost before the response arrived.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ObsConnectionLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public ObsConnectionLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>OBS answered a request with a status code other than 100 (Success).</summary>
public sealed class ObsRequestFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ObsRequestFailedException(string requestType, int code, string? comment)
        : base($"OBS request {requestType} failed with status {code}{(comment is null ? string.Empty : ": " + comment)}")
    {
        RequestType = requestType;
        Code = code;
        Comment = comment;
    }

    /// <summary>Creates the exception (serialization shape).</summary>
    public ObsRequestFailedException()
        : this("unknown", 0, null)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public ObsRequestFailedException(string message)
        : base(message)
    {
        RequestType = "unknown";
    }

    /// <summary>Creates the exception with a message and the cause.</summary>
    public ObsRequestFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        RequestType = "unknown";
    }

    /// <summary>The request type that failed.</summary>
    public string RequestType { get; }

    /// <summary>The obs-websocket status code.</summary>
    public int Code { get; }

    /// <summary>OBS's comment, when it gave one.</summary>
    public string? Comment { get; }
}

/// <summary>OBS closed the connection during the handshake instead of identifying the client.</summary>
internal sealed class ObsRejectedException(int? closeCode, string? reason)
    : Exception($"OBS closed the connection during the handshake ({closeCode} {reason})")
{
    /// <summary>The close code (4009 authentication failed, 4010 unsupported rpc version, 4011 session invalidated ...).</summary>
    public int? CloseCode { get; } = closeCode;
}
