using System.Runtime.Versioning;

namespace CaptionSidecar.Audio.Wasapi;

/// <summary>
/// A WASAPI endpoint to capture: the default input, a capture endpoint by id, or the loopback of a render endpoint
/// (null id with loopback: the default output). Every reopen looks the endpoint up again, so "default" follows a
/// new default device after the old one is unplugged.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class WasapiDevice(string? endpointId, bool loopback, string description) : ICaptureDevice
{
    /// <inheritdoc/>
    public string Description => description;

    /// <inheritdoc/>
    public bool IsLoopback => loopback;

    /// <inheritdoc/>
    public IDisposable EnterCaptureThread() => WasapiCom.EnterMultithreadedApartment();

    /// <inheritdoc/>
    public ICaptureStream Open(int? requiredSampleRate)
    {
        var enumerator = WasapiCom.CreateEnumerator();
        IMMDevice? device = null;
        try
        {
            device = WasapiCom.GetEndpoint(enumerator, endpointId, loopback ? WasapiNative.RenderFlow : WasapiNative.CaptureFlow);
            return WasapiStream.Open(device, loopback, requiredSampleRate);
        }
        finally
        {
            WasapiCom.Release(device);
            WasapiCom.Release(enumerator);
        }
    }
}
