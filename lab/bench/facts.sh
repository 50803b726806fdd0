# The facts `kmsctl status` reports per node, gathered by one shell command
# (run by `ansible all -m shell`). The HSM key itself is never printed.
systemctl show -p ActiveState,SubState,Result,NRestarts,MainPID,StateChangeTimestamp -- minkms.service
sed -n 's/^[[:space:]]*\(export[[:space:]]\+\)\{0,1\}\(MINIO_KMS_HSM_KEY\)=.*/local_key=present/p' /etc/default/minkms
grep -nE '^[[:space:]]*(hsm|hashicorp|vault):' /etc/minkms/config.yaml || true
api=https://127.0.0.1:7373
curl -sS --max-time 5 --cacert /etc/minkms/tls/ca.crt "$api/version"; echo
curl -sS --max-time 5 --cacert /etc/minkms/tls/ca.crt -o /dev/null -w 'live %{http_code}\n' "$api/v1/health/live"
ready=$(curl -sS --max-time 5 --cacert /etc/minkms/tls/ca.crt -o /dev/null -w '%{http_code}' "$api/v1/health/ready")
echo "ready $ready"
test "$ready" = 200
