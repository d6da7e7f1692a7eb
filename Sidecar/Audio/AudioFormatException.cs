namespace CaptionSidecar.Audio;

/// <summary>Audio data that cannot be used: a damaged or unsupported file. The message names the file and what was found.</summary>
public sealed class AudioFormatException : Exception
{
    public AudioFormatException()
    {
    }

    public AudioFormatException(string message)
        : base(message)
    {
    }

    public AudioFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
