namespace CaptionSidecar.Audio;

/// <summary>The role of a default endpoint Windows reports a change for (ERole).</summary>
internal enum DefaultEndpointRole
{
    /// <summary>eConsole: what "default device" means in the sound settings.</summary>
    Console,

    /// <summary>eMultimedia: music and films; Windows moves it together with the console default.</summary>
    Multimedia,

    /// <summary>eCommunications: the default for calls; not what <c>--input default</c> opens.</summary>
    Communications,
}

/// <summary>
/// Decides when a stream on the default input is stale because Windows' default input changed (the platform-neutral
/// half of <c>--input default</c> following the default; the Windows half feeds it notifications). A change
/// notification arrives on Windows' audio thread and only records the new endpoint; the capture thread asks
/// <see cref="ChangedTo"/> before each wait and throws <see cref="CaptureDeviceChangedException"/> when the default
/// is no longer what its stream opened, so <see cref="CaptureLoop"/> reopens on the new default at once.
/// </summary>
internal sealed class DefaultInputFollower
{
    private string? _pending;

    /// <summary>
    /// A default endpoint changed (IMMNotificationClient::OnDefaultDeviceChanged; any thread). Only capture endpoints
    /// in the console or multimedia role count; a null or empty id (no default input left) is ignored: the old
    /// stream then fails by itself.
    /// </summary>
    public void OnDefaultChanged(bool capture, DefaultEndpointRole role, string? endpointId)
    {
        if (capture && role != DefaultEndpointRole.Communications && !string.IsNullOrEmpty(endpointId))
        {
            Volatile.Write(ref _pending, endpointId);
        }
    }

    /// <summary>
    /// Called as the default input is about to be looked up for a new stream: a change reported so far is answered
    /// by that lookup. A change reported after this call still makes the new stream stale unless it named the same
    /// endpoint, so a notification racing the lookup is never lost and never reopens twice.
    /// </summary>
    public void Opening() => Volatile.Write(ref _pending, null);

    /// <summary>The endpoint the default changed to, when it is not <paramref name="openedEndpointId"/>; else null.</summary>
    public string? ChangedTo(string openedEndpointId) =>
        Volatile.Read(ref _pending) is { } id && !string.Equals(id, openedEndpointId, StringComparison.OrdinalIgnoreCase) ? id : null;
}

/// <summary>
/// The default input changed while a stream on the previous default was open: <see cref="CaptureLoop"/> reopens at
/// once (no backoff) and says which device it captures now. An <see cref="IOException"/> like every lost stream.
/// </summary>
internal sealed class CaptureDeviceChangedException : IOException
{
    /// <summary>Creates the exception naming the new default input.</summary>
    public CaptureDeviceChangedException(string newDevice)
        : base($"Windows' default input changed to {newDevice}")
    {
        NewDevice = newDevice;
    }

    /// <summary>The new default input's name.</summary>
    public string NewDevice { get; }
}
