namespace CaptionSidecar.Relay;

/// <summary>Why a viewer was not let in (or <see cref="Admitted"/>).</summary>
public enum Admission
{
    /// <summary>Let in; release it when the viewer leaves.</summary>
    Admitted,

    /// <summary>The relay has <see cref="RelayServerOptions.MaxViewers"/> viewers (503).</summary>
    RelayFull,

    /// <summary>The address has <see cref="RelayServerOptions.MaxViewersPerAddress"/> viewers (429).</summary>
    AddressFull,
}

/// <summary>Counts viewers in total and per address, against the caps. Thread-safe.</summary>
public sealed class ViewerCaps(int maxViewers, int maxPerAddress)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _perAddress = new(StringComparer.Ordinal);
    private int _total;

    /// <summary>Viewers admitted and not yet released.</summary>
    public int Total
    {
        get
        {
            lock (_gate)
            {
                return _total;
            }
        }
    }

    /// <summary>Viewers from <paramref name="address"/> now.</summary>
    public int From(string address)
    {
        lock (_gate)
        {
            return _perAddress.GetValueOrDefault(address);
        }
    }

    /// <summary>Admits one viewer from <paramref name="address"/> when both caps allow it.</summary>
    public Admission TryAdmit(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        lock (_gate)
        {
            if (_total >= maxViewers)
            {
                return Admission.RelayFull;
            }

            var count = _perAddress.GetValueOrDefault(address);
            if (count >= maxPerAddress)
            {
                return Admission.AddressFull;
            }

            _perAddress[address] = count + 1;
            _total++;
            return Admission.Admitted;
        }
    }

    /// <summary>Releases one viewer admitted from <paramref name="address"/>.</summary>
    public void Release(string address)
    {
        lock (_gate)
        {
            if (!_perAddress.TryGetValue(address, out var count))
            {
                return;
            }

            if (count <= 1)
            {
                _perAddress.Remove(address);
            }
            else
            {
                _perAddress[address] = count - 1;
            }

            _total--;
        }
    }
}
